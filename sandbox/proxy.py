"""`AppProxy`: stands in for an app inside the plugin manager under `app:<id>`.

It carries only the hooks the manifest declares and the app implements. Each hook is an RPC to the app process
with a deadline; an error or an overrun is "no opinion" (None), logged, and never reaches the caller.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apps_sdk.markers import hookimpl

log = logging.getLogger("orbitchat.apps")

HookCall = Callable[[str, dict[str, Any]], Awaitable[Any]]


def context_value(ctx: Any) -> dict[str, Any] | None:
    """The caller's context as plain data for the app (never the server's objects)."""
    if ctx is None:
        return None
    user = getattr(ctx, "user", None)
    return {
        "user": {k: user.get(k) for k in ("_id", "username", "name", "roles", "type")} if user else None,
        "transport": getattr(ctx, "transport", None),
        "requestId": getattr(ctx, "request_id", None),
        "connectionId": getattr(ctx, "connection_id", None),
    }


def _plain(name: str, value: Any) -> Any:
    return context_value(value) if name == "ctx" else value


def build_proxy(app_id: str, hooks: list[str], spec_args: dict[str, list[str]], call: HookCall) -> Any:
    """A plugin object whose methods are hookimpls forwarding to `call(hook, kwargs)`."""
    namespace: dict[str, Any] = {}
    for hook in hooks:
        args = spec_args[hook]
        src = (f"async def {hook}(self, {', '.join(args)}):\n"
               f"    return await self._forward({hook!r}, {{{', '.join(f'{a!r}: {a}' for a in args)}}})\n")
        exec(compile(src, f"<app proxy {hook}>", "exec"), {}, namespace)   # argnames come from our hookspecs
        namespace[hook] = hookimpl(namespace[hook])

    async def _forward(self: Any, hook: str, kwargs: dict[str, Any]) -> Any:
        payload = {k: _plain(k, v) for k, v in kwargs.items()}
        try:
            return await call(hook, payload)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("app %s hook %s gave no answer: %s", app_id, hook, exc)
            return None

    namespace["_forward"] = _forward
    cls = type(f"AppProxy_{app_id.replace('-', '_')}", (), namespace)
    proxy = cls()
    proxy.app_id = app_id
    return proxy
