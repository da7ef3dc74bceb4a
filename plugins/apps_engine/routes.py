"""REST `/api/apps`: install (upload or URL), list, get, update, status, settings, logs, icon, apis, uninstall."""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from quart import Response

from core.errors import ApiError, Forbidden, NotFound
from core.rest import RestRequest, Route
from plugins.apps_engine.views import app_view, install_view, log_view, settings_view

if TYPE_CHECKING:
    from plugins.apps_engine.lifecycle import Lifecycle
    from plugins.apps_engine.service import AppsEngine

MANAGE = "manage-apps"
_URL = {"type": "string", "minLength": 8, "maxLength": 2048, "pattern": "^https?://"}
INSTALL_BODY = {"type": "object", "additionalProperties": False, "properties": {
    "url": _URL, "permissions": {"type": "string", "maxLength": 20000},
    "permissionsGranted": {"type": "array", "maxItems": 100, "items": {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": {"type": "string", "maxLength": 64}, "required": {"type": "boolean"},
                       "domains": {"type": "array", "maxItems": 100, "items": {"type": "string", "maxLength": 253}}}}},
}}
STATUS_BODY = {"type": "object", "additionalProperties": False, "required": ["status"],
               "properties": {"status": {"enum": ["manually_enabled", "manually_disabled"]}}}
_SETTING = {"type": "object", "required": ["id"], "additionalProperties": False, "properties": {
    "id": {"type": "string", "minLength": 1, "maxLength": 100}, "value": {},
    **{k: {} for k in ("packageValue", "type", "required", "public", "hidden", "i18nLabel", "i18nDescription",
                       "i18nAlert", "i18nPlaceholder", "values", "multiline", "section", "createdAt",
                       "updatedAt", "_id")}}}
SETTINGS_BODY = {"type": "object", "additionalProperties": False, "required": ["settings"],
                 "properties": {"settings": {"type": "array", "maxItems": 200, "items": _SETTING}}}
SETTING_BODY = {"type": "object", "additionalProperties": False, "required": ["setting"],
                "properties": {"setting": _SETTING}}


class AppsRoutes:
    def __init__(self, engine: AppsEngine, lifecycle: Lifecycle) -> None:
        self.engine = engine
        self.lifecycle = lifecycle

    def routes(self) -> list[Route]:
        p = "/api/apps"
        return [
            Route("GET", p, self.list),
            Route("GET", f"{p}/installed", self.list),
            Route("POST", p, self.install, permission=MANAGE, multipart=True, body=INSTALL_BODY,
                  max_body=self._upload_limit),
            Route("GET", f"{p}/:id", self.get, permission=MANAGE),
            Route("POST", f"{p}/:id", self.update, permission=MANAGE, multipart=True, body=INSTALL_BODY,
                  max_body=self._upload_limit),
            Route("DELETE", f"{p}/:id", self.uninstall, permission=MANAGE),
            Route("GET", f"{p}/:id/status", self.status, permission=MANAGE),
            Route("POST", f"{p}/:id/status", self.set_status, permission=MANAGE, body=STATUS_BODY),
            Route("GET", f"{p}/:id/settings", self.settings, permission=MANAGE),
            Route("POST", f"{p}/:id/settings", self.set_settings, permission=MANAGE, body=SETTINGS_BODY),
            Route("GET", f"{p}/:id/settings/:settingId", self.setting, permission=MANAGE),
            Route("POST", f"{p}/:id/settings/:settingId", self.set_setting, permission=MANAGE, body=SETTING_BODY),
            Route("GET", f"{p}/:id/logs", self.logs, permission=MANAGE, paginated=True),
            Route("GET", f"{p}/:id/apis", self.apis, permission=MANAGE),
            Route("GET", f"{p}/:id/icon", self.icon, auth=False, rate_limit=None),
        ]

    def _upload_limit(self) -> int:
        """The package size setting plus room for the multipart envelope: larger uploads are a 413."""
        return self.engine.conf.package_limits.max_compressed + 1024 * 1024

    async def _record(self, app_id: str) -> dict[str, Any]:
        record = await self.engine.store.get(app_id)
        if record is None:
            raise NotFound(f"No App found by the id of: {app_id}")
        return record

    async def list(self, req: RestRequest) -> dict:
        return {"apps": [app_view(r) for r in await self.engine.store.all()]}

    async def get(self, req: RestRequest) -> dict:
        return {"app": app_view(await self._record(req.params["id"]), with_settings=True)}

    # -- install and update ---------------------------------------------------------------------------------
    async def _package(self, req: RestRequest, update_of: str | None) -> dict[str, Any]:
        upload = (req.files or {}).get("app")
        if upload is not None:
            limit = self.engine.conf.package_limits.max_compressed
            data = upload.stream.read(limit + 1)
            return await self.lifecycle.install(data, req.user, update_of=update_of)
        if req.body.get("url"):
            if "admin" not in (req.user.get("roles") or []):
                raise Forbidden("Only administrators may install apps from a URL")
            return await self.lifecycle.install_url(req.body["url"], req.user, update_of=update_of)
        raise ApiError("Send the app package as the multipart field `app`, or a `url`", "error-app-package-missing")

    async def install(self, req: RestRequest) -> dict:
        return install_view(await self._package(req, None))

    async def update(self, req: RestRequest) -> dict:
        await self._record(req.params["id"])
        return install_view(await self._package(req, req.params["id"]))

    async def uninstall(self, req: RestRequest) -> dict:
        return {"app": app_view(await self.lifecycle.uninstall(req.params["id"]))}

    # -- status and settings ---------------------------------------------------------------------------------
    async def status(self, req: RestRequest) -> dict:
        return {"status": (await self._record(req.params["id"])).get("status", "unknown")}

    async def set_status(self, req: RestRequest) -> dict:
        return {"status": await self.lifecycle.set_status(req.params["id"], req.body["status"])}

    async def settings(self, req: RestRequest) -> dict:
        return {"settings": settings_view(await self._record(req.params["id"]))}

    async def set_settings(self, req: RestRequest) -> dict:
        updated = await self.lifecycle.update_settings(req.params["id"], req.body["settings"])
        return {"updated": updated}

    async def setting(self, req: RestRequest) -> dict:
        settings = settings_view(await self._record(req.params["id"]))
        if req.params["settingId"] not in settings:
            raise NotFound(f"Setting {req.params['settingId']} not found")
        return {"setting": settings[req.params["settingId"]]}

    async def set_setting(self, req: RestRequest) -> dict:
        item = {**req.body["setting"], "id": req.params["settingId"]}
        updated = await self.lifecycle.update_settings(req.params["id"], [item])
        return {"setting": updated[0]}

    # -- logs, apis, icon ----------------------------------------------------------------------------------
    async def logs(self, req: RestRequest) -> dict:
        await self._record(req.params["id"])
        page = req.page
        docs, total = await self.engine.store.read_logs(req.params["id"], page.offset, page.count)
        return {"logs": [log_view(d) for d in docs], "count": len(docs), "offset": page.offset, "total": total}

    async def apis(self, req: RestRequest) -> dict:
        record = await self._record(req.params["id"])
        app = self.engine.running.get(record["id"])
        endpoints = app.registrations["endpoints"] if app is not None else []
        base = f"/api/apps/private/{record['id']}/{record['_id']}/"
        return {"apis": [{"path": ep.path, "computedPath": base + ep.path, "methods": [m.lower() for m in ep.methods],
                          "authRequired": ep.auth_required, "examples": {}} for ep in endpoints]}

    async def icon(self, req: RestRequest) -> Response:
        record = await self.engine.store.get(req.params["id"])
        data_uri = (record or {}).get("iconFileContent")
        if not data_uri:
            raise NotFound("The app has no icon")
        head, _, b64 = data_uri.partition(",")
        kind = head[len("data:"):].split(";")[0]
        return Response(base64.b64decode(b64), status=200, content_type=kind,
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff",
                                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})
