"""DDP: public-settings/get, private-settings/get. (Setting changes reach clients through ddp_streamer,
which maps the `watch.settings` event to its streams.)"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core.ddp import DdpMethod, MethodInvocation
from plugins.settings.service import SettingsService, public_view

# EJSON dates arrive decoded (datetime), which jsonschema has no type for: the handler checks the value.
UPDATED_SINCE = {"type": "array", "maxItems": 1}


def _since(args: tuple) -> datetime | None:
    value = args[0] if args else None
    return value if isinstance(value, datetime) else None


def methods(service: SettingsService) -> list[DdpMethod]:
    async def public_get(inv: MethodInvocation, *args: Any) -> Any:
        return await _get(public_only=True, since=_since(args))

    async def private_get(inv: MethodInvocation, *args: Any) -> Any:
        privileged = await service.api.has_permission(inv.ctx.user, "view-privileged-setting")
        return await _get(public_only=not privileged, since=_since(args), full=privileged)

    async def _get(public_only: bool, since: datetime | None, full: bool = False) -> Any:
        docs, _ = await service.list(public_only=public_only, flt={}, skip=0, limit=0, sort=None)
        if since is not None:
            docs = [d for d in docs if d.get("_updatedAt") and d["_updatedAt"] > since]
        items = [d if full else public_view(d) for d in docs]
        return {"update": items, "remove": []} if since is not None else items

    return [
        DdpMethod("public-settings/get", public_get, auth=False, params=UPDATED_SINCE),
        DdpMethod("private-settings/get", private_get, params=UPDATED_SINCE),
    ]

