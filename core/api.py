"""`PluginApi`: the curated facade a trusted plugin receives at start-up (never the Quart app).

Apps do not get this: they run sandboxed and reach the server only through accessors.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.broker import Broker
    from core.ddp.registry import DdpRegistry
    from core.hooks import HookRunner
    from core.kernel import Kernel
    from core.rest.route import RouteTable
    from core.settings_view import SettingsView


class PluginApi:
    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel

    @property
    def broker(self) -> Broker:
        return self._kernel.broker

    @property
    def streamhub_mode(self) -> str:
        return self._kernel.config.streamhub

    async def emit_watch(self, event: str, payload: Any) -> None:
        """Announce a committed change (`watch.*`). In `changestream` mode StreamHub announces every change
        from the database's change stream instead, so services stay silent to avoid duplicates."""
        if self._kernel.config.streamhub != "changestream":
            await self._kernel.broker.emit(event, payload)

    @property
    def hooks(self) -> HookRunner:
        return self._kernel.hooks

    @property
    def settings(self) -> SettingsView:
        return self._kernel.settings

    @property
    def ddp(self) -> DdpRegistry:
        """Connections, subscriptions and `publish` for stream events."""
        return self._kernel.ddp

    @property
    def routes(self) -> RouteTable:
        return self._kernel.routes

    @property
    def db(self) -> Any:
        """The pymongo async database, for operations beanie does not express."""
        return self._kernel.db

    @property
    def permissions(self) -> dict[str, list[str]]:
        """Declared permissions and their default roles (for the authorization service to seed)."""
        return self._kernel.permissions

    @property
    def plugin_names(self) -> list[str]:
        return self._kernel.plugin_names

    @property
    def data_dir(self) -> Path:
        return Path(self._kernel.config.data_dir)

    @property
    def lock_path(self) -> Path:
        """plugin.lock of this deployment (the apps engine keeps its `[apps]` section current)."""
        return Path(self._kernel.config.lock_path)

    @property
    def public_url(self) -> str:
        return self._kernel.config.public_url

    @property
    def env(self) -> Mapping[str, str]:
        return self._kernel.config.env

    async def has_permission(self, user: Mapping[str, Any] | None, permission: str, rid: str | None = None) -> bool:
        return await self._kernel.has_permission(user, permission, rid)

    async def user_by_token(self, user_id: str, token_hash: str) -> Mapping[str, Any] | None:
        return await self._kernel.user_by_token(user_id, token_hash)

    # -- runtime plugins (apps): added and removed without a restart ---------------------------------
    def register_plugin(self, plugin: Any, name: str) -> None:
        self._kernel.pm.register(plugin, name=name)

    def unregister_plugin(self, name: str) -> None:
        plugin = self._kernel.pm.get_plugin(name)
        if plugin is not None:
            self._kernel.pm.unregister(plugin, name=name)

    def hook_args(self, hook: str) -> list[str]:
        """Argument names of a hookspec (what an implementation receives)."""
        caller = getattr(self._kernel.pm.hook, hook, None)
        if caller is None or caller.spec is None:
            raise LookupError(f"unknown hook {hook}")
        return list(caller.spec.argnames)

    def all_routes(self) -> list[Any]:
        return list(self._kernel.routes)

    def logger(self, name: str) -> logging.Logger:
        return logging.getLogger(f"orbitchat.{name}")
