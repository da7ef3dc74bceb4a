"""Teams plugin: hook adapter, the `teams.*` broker actions, and keeping team membership in step with the
main room."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from plugins.teams import routes as rest_routes
from plugins.teams.constants import PERMISSIONS
from plugins.teams.members import Members
from plugins.teams.models import Team, TeamMember
from plugins.teams.service import TeamService
from plugins.teams.store import TeamStore
from plugins.teams.team_rooms import TeamRooms


class Plugin:
    name = "teams"

    def __init__(self) -> None:
        store = TeamStore()
        self.service = TeamService(store, Members(store), TeamRooms(store))

    @hookimpl
    def register_document_models(self) -> list[type]:
        return [Team, TeamMember]

    @hookimpl
    def register_permissions(self) -> list[dict]:
        return [dict(p) for p in PERMISSIONS]

    @hookimpl
    def register_routes(self) -> list:
        return rest_routes.routes(self.service)

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        self.service.store.start(api)
        await api.broker.register("teams.get", self._get)
        await api.broker.register("teams.room_info", self.service.room_info)
        await api.broker.subscribe("user.deleted", self.service.members.on_user_deleted)

    # -- the main room, changed by other services ----------------------------------------------------
    @hookimpl
    async def post_room_user_joined(self, room: dict, user: dict, inviter: dict | None) -> None:
        await self.service.members.on_joined(room, user, inviter)

    @hookimpl
    async def post_room_user_left(self, room: dict, user: dict) -> None:
        await self.service.members.on_left(room, user)

    @hookimpl
    async def post_room_deleted(self, room: dict) -> None:
        await self.service.on_room_deleted(room)

    # -- broker actions -----------------------------------------------------------------------------
    async def _get(self, team_id: str) -> dict | None:
        """The `rocketchat_team` document, or None."""
        return await self.service.store.team(team_id)
