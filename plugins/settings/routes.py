"""REST: settings.public, settings, settings/:_id (GET/POST)."""
from __future__ import annotations

from typing import Any

from core.errors import ApiError
from core.rest import RestRequest, Route
from plugins.settings.service import SettingsService, public_view

SETTING_VALUE = {"anyOf": [
    {"type": ["string", "boolean", "number", "null"]},
    {"type": "array", "items": {"type": "string", "maxLength": 1000}, "maxItems": 500},
]}
SET_BODY = {
    "type": "object",
    "properties": {"value": SETTING_VALUE, "editor": {"type": "string", "maxLength": 100},
                   "execute": {"type": "boolean"}},
    "additionalProperties": False,
}
ID_PARAM = r"^[A-Za-z0-9_.\-]{1,200}$"


def routes(service: SettingsService) -> list[Route]:
    async def list_public(req: RestRequest) -> dict[str, Any]:
        return await _list(req, public_only=True)

    async def list_all(req: RestRequest) -> dict[str, Any]:
        privileged = await service.api.has_permission(req.user, "view-privileged-setting")
        return await _list(req, public_only=not privileged, full=privileged)

    async def _list(req: RestRequest, public_only: bool, full: bool = False) -> dict[str, Any]:
        page = req.page
        docs, total = await service.list(public_only=public_only, flt=page.filter, skip=page.offset,
                                         limit=page.count, sort=page.sort)
        items = [page.project(d if full else public_view(d)) for d in docs]
        return {"settings": items, "count": len(items), "offset": page.offset, "total": total}

    async def get_one(req: RestRequest) -> dict[str, Any]:
        doc = await service.get(_sid(req))
        if doc is None or doc.get("hidden"):
            raise ApiError("Setting not found", "error-setting-not-found", status=404)
        return {"_id": doc["_id"], "value": doc.get("value")}

    async def set_one(req: RestRequest) -> dict[str, Any]:
        if "value" not in req.body:
            raise ApiError("must have required property 'value'", "invalid-params")
        await service.set(_sid(req), req.body["value"], req.body.get("editor"), dict(req.user))
        return {}

    def _sid(req: RestRequest) -> str:
        import re
        sid = req.params["_id"]
        if not re.match(ID_PARAM, sid):
            raise ApiError("Setting not found", "error-setting-not-found", status=404)
        return sid

    common = {"paginated": True, "filter_fields": ("_id", "group", "section", "type"),
              "sort_fields": ("_id", "group", "section", "sorter", "_updatedAt")}
    return [
        Route("GET", "settings.public", list_public, auth=False, rate_limit=None, **common),
        Route("GET", "settings", list_all, **common),
        Route("GET", "settings/:_id", get_one, permission="view-privileged-setting"),
        Route("POST", "settings/:_id", set_one, permission="edit-privileged-setting", body=SET_BODY),
    ]
