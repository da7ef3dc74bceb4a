"""Kernel hooks: what a plugin contributes at start-up and how it learns of start and stop.

`register_*` hooks are collected (every implementation's list is concatenated). `orbitchat_startup`
and `orbitchat_shutdown` are awaited in plugin order.
"""
from __future__ import annotations

from typing import Any

from core.hookspecs import hookspec


@hookspec
def register_document_models() -> list[type]:
    """Return the beanie `Document` classes this plugin owns; the kernel initialises them all at once."""


@hookspec
def register_routes() -> list[Any]:
    """Return `core.rest.Route` declarations. Paths are relative to `/api/v1/` unless they start with `/`.

    Each route declares its auth, permission and schemas; the kernel enforces them before the handler runs.
    Two plugins declaring the same method and path is a start-up error.
    """


@hookspec
def register_ddp_methods() -> list[Any]:
    """Return `core.ddp.DdpMethod` declarations (DDP `method` names, params schema, permission)."""


@hookspec
def register_streams() -> list[Any]:
    """Return `core.ddp.Stream` declarations: publications clients `sub` to (`stream-<name>` and others)."""


@hookspec
def register_settings() -> list[dict]:
    """Return setting declarations: dicts with `_id`, `type`, `value` (the package default) and optional
    `public`, `hidden`, `group`, `section`, `i18nLabel`, `values` (select options), `sorter`.
    The first declaration of an `_id` wins; later duplicates are logged."""


@hookspec
def register_permissions() -> list[dict]:
    """Return permission declarations `{"_id": name, "roles": [default roles]}` this plugin introduces."""


@hookspec
async def orbitchat_startup(api: Any) -> None:
    """Called once per app after the database and broker are up, in plugin order. `api` is the curated
    `core.api.PluginApi` facade (broker, settings view, streams, hook runner, logger); a plugin keeps what
    it needs on its own instance. Raising here aborts start-up with the plugin named."""


@hookspec
async def orbitchat_shutdown() -> None:
    """Called once when the app stops; release what `orbitchat_startup` acquired."""
