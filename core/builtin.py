"""The kernel's own hook implementations: its settings and the routes that belong to no service."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import jsonutil
from core.ddp.connection import DdpConnection
from core.errors import ApiError
from core.hookspecs import hookimpl
from core.rest import RestRequest, Route
from core.version import RC_COMPAT_VERSION, VERSION

if TYPE_CHECKING:
    from core.kernel import Kernel

KERNEL_SETTINGS = [
    {"_id": "API_Enable_Rate_Limiter", "type": "boolean", "value": True, "group": "Rate Limiter",
     "section": "API_Rate_Limiter"},
    {"_id": "API_Enable_Rate_Limiter_Limit_Calls_Default", "type": "int", "value": 10, "group": "Rate Limiter",
     "section": "API_Rate_Limiter"},
    {"_id": "API_Enable_Rate_Limiter_Limit_Time_Default", "type": "int", "value": 60000,
     "group": "Rate Limiter", "section": "API_Rate_Limiter"},
    {"_id": "API_Default_Count", "type": "int", "value": 50, "group": "General", "section": "REST API"},
    {"_id": "API_Upper_Count_Limit", "type": "int", "value": 100, "group": "General", "section": "REST API"},
    {"_id": "API_Allow_Infinite_Count", "type": "boolean", "value": True, "group": "General",
     "section": "REST API"},
    {"_id": "DDP_Heartbeat_Interval", "type": "int", "value": 30, "group": "General", "hidden": True},
]


class KernelPlugin:
    """Always registered; not listed in plugin.lock because it is the kernel itself."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    @hookimpl(trylast=True)
    def register_settings(self) -> list[dict]:
        return [dict(s) for s in KERNEL_SETTINGS]

    @hookimpl(trylast=True)
    def register_routes(self) -> list[Route]:
        body = {"type": "object", "required": ["message"],
                "properties": {"message": {"type": "string", "maxLength": 1_000_000}}}
        return [
            Route("GET", "/api/info", self.info, auth=False, rate_limit=None),
            Route("POST", "method.call/:method", self.method_call, body=body, rate_limit=None),
            Route("POST", "method.callAnon/:method", self.method_call, auth=False, body=body, rate_limit=None),
        ]

    async def method_call(self, req: RestRequest) -> dict[str, Any]:
        """DDP over REST (the web client's fallback when websockets are off): the message is an EJSON DDP
        `method` frame; the answer is the EJSON `result` frame. The same checks as over a websocket apply."""
        try:
            frame = jsonutil.ejson_loads(req.body["message"])
        except ValueError:
            raise ApiError("Invalid message", "invalid-params") from None
        if not isinstance(frame, dict) or frame.get("method") != req.params["method"] \
                or not isinstance(frame.get("params", []), list):
            raise ApiError("Invalid message", "invalid-params")
        mid = frame.get("id") if isinstance(frame.get("id"), str) else "1"
        conn = DdpConnection(16, req.ctx.ip, req.ctx.user_agent)
        conn.user, conn.token_hash = req.ctx.user, req.ctx.token_hash
        method = self.kernel.ddp.methods.get(req.params["method"])
        reply: dict[str, Any] = {"msg": "result", "id": mid}
        try:
            if method is None:
                raise ApiError(f"Method '{req.params['method']}' not found", status=404)
            result = await self.kernel.ddp_gateway.invoke(method, conn, frame.get("params", []))
            if result is not None:
                reply["result"] = result
        except ApiError as err:
            reply["error"] = err.ddp_error()
        return {"message": jsonutil.ejson_dumps(reply).decode()}

    async def info(self, req: RestRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"version": RC_COMPAT_VERSION,
                                "minimumClientVersions": {"desktop": "3.9.6", "mobile": "4.39.0"}}
        if await self.kernel.has_permission(req.ctx.user, "view-statistics"):
            body["info"] = {"version": RC_COMPAT_VERSION, "orbitchat": VERSION,
                            "plugins": self.kernel.plugin_names}
        return body
