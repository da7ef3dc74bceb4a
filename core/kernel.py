"""The kernel: per-app state (plugin manager, hook runner, broker, registries) and its start/stop sequence."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from beanie import init_beanie

from core import storage
from core.api import PluginApi
from core.broker import Broker
from core.builtin import KernelPlugin
from core.config import Config
from core.ddp.registry import DdpRegistry
from core.hooks import HookRunner
from core.plugins import Selection, new_plugin_manager, select
from core.ratelimit import RateLimiter
from core.rest.route import RouteTable
from core.settings_view import SettingsView

log = logging.getLogger("orbitchat.kernel")
# How long a stopping server waits for its closed sockets' handlers (Hypercorn's graceful timeout too).
SOCKETS_DRAIN_SECONDS = 5.0


def make_transport(url: str | None):
    if not url:
        return None
    if url.startswith("nats://"):
        from core.transport_nats import NatsTransport
        return NatsTransport(url)
    raise ValueError(f"unsupported BROKER_URL {url!r} (expected nats://...)")


class Kernel:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.pm = new_plugin_manager()
        self.hooks = HookRunner(self.pm, timeout=config.hook_timeout)
        self.broker = Broker(make_transport(config.broker_url))
        self.settings = SettingsView(config.env)
        self.routes = RouteTable()
        self.ddp = DdpRegistry()
        self.rate_limiter = RateLimiter()
        self.ddp_gateway: Any = None   # set by create_app; DDP-over-REST calls methods through it
        self.permissions: dict[str, list[str]] = {}
        self.models: list[type] = []
        self.embedded: storage.EmbeddedDatabase | None = None
        self.client = None
        self.db = None
        self.db_url = ""
        self.selection: Selection = select(config)
        self.pm.register(KernelPlugin(self), name="kernel")
        for name, plugin in self.selection.plugins:
            self.pm.register(plugin, name=name)
        self.api = PluginApi(self)
        self._forwarded = int(config.env.get("HTTP_FORWARDED_COUNT", "0") or 0)

    @property
    def plugin_names(self) -> list[str]:
        return [name for name, _ in self.selection.plugins]

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        if cfg.mongo_url:
            self.db_url = cfg.mongo_url
        else:
            self.embedded = storage.EmbeddedDatabase(cfg.data_dir / "db")
            self.embedded.start()
            self.db_url = self.embedded.url
        self.client = await storage.connect(self.db_url)
        self.db = self.client[cfg.db_name]
        await self._collect()
        await init_beanie(database=self.db, document_models=self.models)
        await self.broker.start()
        await self.hooks.call_each("orbitchat_startup", api=self.api)

    async def _collect(self) -> None:
        for name in ("register_settings",):
            for owner, item in await self._owned(name):
                self.settings.declare(item, owner)
        for _owner, item in await self._owned("register_permissions"):
            self.permissions.setdefault(item["_id"], list(item.get("roles", [])))
        for owner, route in await self._owned("register_routes"):
            route.owner = owner
            self.routes.add(route)
        for owner, method in await self._owned("register_ddp_methods"):
            method.owner = owner
            self.ddp.add_method(method)
        for owner, stream in await self._owned("register_streams"):
            stream.owner = owner
            self.ddp.add_stream(stream)
        for _, model in await self._owned("register_document_models"):
            if model not in self.models:
                self.models.append(model)

    async def _owned(self, hook: str) -> list[tuple[str, Any]]:
        """Collect a register_* hook keeping which plugin contributed each item."""
        out: list[tuple[str, Any]] = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            result = impl.function()
            if hasattr(result, "__await__"):
                result = await result
            out.extend((impl.plugin_name, item) for item in (result or []))
        return out

    async def stop(self) -> None:
        try:
            if self.ddp_gateway is not None:   # sockets closed by the server's shutdown finish first
                await self.ddp_gateway.drain(SOCKETS_DRAIN_SECONDS)
            for impl in self.pm.hook.orbitchat_shutdown.get_hookimpls():
                try:
                    result = impl.function()
                    if hasattr(result, "__await__"):
                        await result
                except Exception:
                    log.exception("shutdown of %s failed", impl.plugin_name)
            await self.hooks.drain()
            await self.broker.stop()
        finally:
            if self.client is not None:
                await self.client.close()
            if self.embedded is not None:
                self.embedded.stop()

    # -- services the dispatchers use ----------------------------------------------------------
    async def user_by_token(self, user_id: str, token_hash: str) -> Mapping[str, Any] | None:
        return await self.hooks.first_result("provide_user_by_token", user_id=user_id, hashed_token=token_hash)

    async def has_permission(self, user: Mapping[str, Any] | None, permission: str, rid: str | None = None) -> bool:
        if user is None:
            return False
        answer = await self.hooks.first_result("provide_permission_check", user=user, permission=permission, rid=rid)
        return answer is True

    async def has_any_permission(self, user: Mapping[str, Any] | None, permissions: Iterable[str]) -> bool:
        for perm in permissions:
            if await self.has_permission(user, perm):
                return True
        return False

    def client_ip(self, headers: Mapping[str, str], remote: str | None) -> str:
        if self._forwarded:
            hops = [h.strip() for h in headers.get("X-Forwarded-For", "").split(",") if h.strip()]
            if len(hops) >= self._forwarded:
                return hops[-self._forwarded]
        return remote or "unknown"
