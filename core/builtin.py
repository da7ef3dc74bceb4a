"""The kernel's own hook implementations: its settings and the routes that belong to no service."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

    def __init__(self, kernel: "Kernel") -> None:
        self.kernel = kernel

    @hookimpl(trylast=True)
    def register_settings(self) -> list[dict]:
        return [dict(s) for s in KERNEL_SETTINGS]

    @hookimpl(trylast=True)
    def register_routes(self) -> list[Route]:
        return [Route("GET", "/api/info", self.info, auth=False, rate_limit=None)]

    async def info(self, req: RestRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"version": RC_COMPAT_VERSION,
                                "minimumClientVersions": {"desktop": "3.9.6", "mobile": "4.39.0"}}
        if await self.kernel.has_permission(req.ctx.user, "view-statistics"):
            body["info"] = {"version": RC_COMPAT_VERSION, "orbitchat": VERSION,
                            "plugins": self.kernel.plugin_names}
        return body
