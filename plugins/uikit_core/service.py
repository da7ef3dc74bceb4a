"""Interaction routing: a registered core app id answers itself; anything else goes to the apps engine."""
from __future__ import annotations

import logging
from typing import Any

from core.broker import ServiceNotFound
from core.context import Context, random_id
from core.errors import ApiError
from core.uikit import KINDS, CoreApp

log = logging.getLogger("orbitchat.uikit")
FIELDS = ("actionId", "payload", "container", "mid", "rid", "tmid", "viewId", "visitor")


def normalise(kind: str, app_id: str, body: dict[str, Any], user: dict | None) -> dict[str, Any]:
    """The interaction handlers see: known fields only, a trigger id, the app id and the acting user."""
    interaction = {k: body[k] for k in FIELDS if k in body}
    interaction.update({"type": kind, "appId": app_id, "triggerId": body.get("triggerId") or random_id()})
    if user is not None:
        interaction["user"] = {k: user.get(k) for k in ("_id", "username", "name", "roles")}
    return interaction


class UiKitRouter:
    def __init__(self) -> None:
        self.core_apps: dict[str, CoreApp] = {}
        self.api: Any = None

    async def start(self, api: Any) -> None:
        self.api = api
        for app in await api.hooks.collect("register_uikit_core_apps"):
            if app.app_id in self.core_apps:
                log.warning("UIKit core app %s registered twice; keeping the first", app.app_id)
                continue
            self.core_apps[app.app_id] = app

    def is_core(self, app_id: str) -> bool:
        return app_id in self.core_apps

    async def interact(self, app_id: str, body: dict[str, Any], ctx: Context) -> dict[str, Any]:
        kind = body["type"]
        if kind not in KINDS:
            raise ApiError(f"Unknown interaction type {kind}", "invalid-params")
        interaction = normalise(kind, app_id, body, dict(ctx.user) if ctx.user else None)
        core = self.core_apps.get(app_id)
        if core is not None:
            handler = core.handler(kind)
            result = await handler(interaction, ctx) if handler is not None else None
            return self._shape(result, interaction)
        try:
            result = await self.api.broker.call("apps.uikit_interaction", app_id, kind, interaction)
        except ServiceNotFound:
            raise ApiError("App not found", "error-app-not-found", status=404) from None
        return self._shape(result, interaction)

    @staticmethod
    def _shape(result: dict | None, interaction: dict) -> dict[str, Any]:
        """Rocket.Chat's response: the handler's object, completed with triggerId and appId."""
        if not result:
            return {"success": True}
        out = {"success": True, **result}
        if "type" in out:
            out.setdefault("triggerId", interaction["triggerId"])
            out.setdefault("appId", interaction["appId"])
            if isinstance(out.get("view"), dict):
                out["view"] = {"appId": interaction["appId"], **out["view"]}
        return out
