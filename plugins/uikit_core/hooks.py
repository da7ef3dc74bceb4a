"""uikit_core plugin: `POST /api/apps/ui.interaction/:appId` and the DDP `uikit.interaction` method."""
from __future__ import annotations

import re
from typing import Any

from core import hookimpl
from core.ddp import DdpMethod, MethodInvocation
from core.rest import RestRequest, Route, raw_json
from plugins.uikit_core.service import UiKitRouter

_STR = {"type": "string", "maxLength": 512}
INTERACTION = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"enum": ["blockAction", "viewSubmit", "viewClosed", "actionButton"]},
        "actionId": _STR, "triggerId": _STR, "mid": _STR, "rid": _STR, "tmid": _STR, "viewId": _STR,
        "payload": {"type": "object", "maxProperties": 50},
        "container": {"type": "object", "properties": {"type": {"enum": ["message", "view"]}, "id": _STR},
                      "additionalProperties": False},
        "visitor": {"type": "object", "maxProperties": 20},
    },
}
APP_ID = r"^[A-Za-z0-9_.\-]{1,100}$"


class Plugin:
    name = "uikit_core"

    def __init__(self) -> None:
        self.router = UiKitRouter()

    @hookimpl
    def register_routes(self) -> list[Route]:
        return [Route("POST", "/api/apps/ui.interaction/:appId", self._rest, body=INTERACTION,
                      rate_limit=(120, 60000))]

    @hookimpl
    def register_ddp_methods(self) -> list[DdpMethod]:
        params = {"type": "array", "prefixItems": [{"type": "string", "pattern": APP_ID}, INTERACTION],
                  "minItems": 2, "maxItems": 2}
        return [DdpMethod("uikit.interaction", self._ddp, params=params, rate_limit=(120, 60000))]

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        await self.router.start(api)

    async def _rest(self, req: RestRequest) -> Any:
        app_id = req.params["appId"]
        if not re.match(APP_ID, app_id):
            return raw_json({"success": False, "error": "App not found"}, 404)
        result = await self.router.interact(app_id, req.body, req.ctx)
        return raw_json(result)   # Rocket.Chat answers 200 even for view errors: the body says what happened

    async def _ddp(self, inv: MethodInvocation, app_id: str, body: dict) -> Any:
        return await self.router.interact(app_id, body, inv.ctx)
