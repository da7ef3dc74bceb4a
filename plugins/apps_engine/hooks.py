"""apps_engine plugin: hook adapter (settings, permission, routes, start-up and shutdown)."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from core.broker import ServiceNotFound
from core.errors import ApiError
from plugins.apps_engine import conf
from plugins.apps_engine.commands import CommandRoutes
from plugins.apps_engine.endpoints import EndpointRoutes
from plugins.apps_engine.lifecycle import Lifecycle
from plugins.apps_engine.routes import AppsRoutes
from plugins.apps_engine.service import AppsEngine
from plugins.apps_engine.views import app_view
from sandbox.protocol import RpcError

PERMISSIONS = [{"_id": "manage-apps", "roles": ["admin"]}]


class Plugin:
    name = "apps_engine"

    def __init__(self) -> None:
        self.engine = AppsEngine()
        self.lifecycle = Lifecycle(self.engine)
        self.commands = CommandRoutes(self.engine.commands, self._room_for, self._has_permission)

    @hookimpl
    def register_settings(self) -> list[dict]:
        return conf.declarations()

    @hookimpl
    def register_permissions(self) -> list[dict]:
        return [dict(p) for p in PERMISSIONS]

    @hookimpl
    def register_routes(self) -> list:
        return (AppsRoutes(self.engine, self.lifecycle).routes() + EndpointRoutes(self.engine).routes()
                + self.commands.routes())

    @hookimpl
    def register_ddp_methods(self) -> list:
        return self.commands.methods()

    @hookimpl(trylast=True)
    async def orbitchat_startup(self, api: Any) -> None:
        await self.engine.start(api)
        await api.broker.register("apps_engine.install_path", self._install_path)
        await api.broker.register("apps_engine.list", self._list)
        await api.broker.register("apps.uikit_interaction", self._uikit_interaction)

    @hookimpl
    async def orbitchat_shutdown(self) -> None:
        await self.engine.stop()

    # -- broker actions (the CLI and other services) -------------------------------------------------------
    async def _install_path(self, path: str, update: bool = False) -> dict:
        return app_view(await self.lifecycle.install_path(path, update=update))

    async def _list(self) -> list[dict]:
        return [app_view(r) for r in await self.engine.store.all()]

    async def _uikit_interaction(self, app_id: str, kind: str, interaction: dict) -> dict | None:
        """uikit_core hands over an interaction with an app's blocks or views: the app's handler answers."""
        app = self.engine.running.get(app_id)
        if app is None or not app.enabled:
            raise ApiError("App not found", "error-app-not-found", status=404)
        try:
            result = await app.handle("uikit:" + kind, interaction)
        except TimeoutError:
            raise ApiError("The app did not answer in time", "error-app-timeout", status=504) from None
        except (RpcError, ConnectionError):
            raise ApiError("The app failed to handle the interaction", "error-app-interaction-failed") from None
        return result if isinstance(result, dict) else None

    # -- what slash commands need ---------------------------------------------------------------------------
    async def _room_for(self, user: dict, rid: str) -> dict:
        api = self.engine.api
        try:
            room = await api.broker.call("rooms.get", rid)
        except ServiceNotFound:
            room = await api.db["rocketchat_room"].find_one({"_id": rid})
        try:
            allowed = room is not None and await api.broker.call("authorization.can_access_room", user["_id"], rid)
        except ServiceNotFound:
            allowed = False
        if not allowed:
            raise ApiError("Invalid room", "error-invalid-room")
        return room

    async def _has_permission(self, user: dict, permission: str, rid: str | None = None) -> bool:
        return await self.engine.api.has_permission(user, permission, rid)
