"""REST: `teams.*`, plus `channels.convertToTeam` / `groups.convertToTeam`. Handlers look the team up, check
the team-scoped permission (on the team's main room, where owners and moderators hold their roles) and
hand over to the service."""
from __future__ import annotations

from typing import Any

from core.rest import Page, RestRequest, Route
from plugins.teams import schemas as s
from plugins.teams.members import Members
from plugins.teams.service import TeamService, room_not_found
from plugins.teams.store import fail, unauthorized

TEAM_SORTS = ("name", "type", "createdAt", "_updatedAt")
TEAM_FILTERS = ("name", "type", "roomId")


def paged(key: str, items: list[Any], page: Page, total: int, offset: int | None = None) -> dict[str, Any]:
    return {key: items, "total": total, "count": len(items), "offset": page.offset if offset is None else offset}


class TeamRoutes:
    def __init__(self, service: TeamService) -> None:
        self.svc = service
        self.store = service.store
        self.members: Members = service.members

    async def team(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self.store.require(params)

    async def require(self, req: RestRequest, team: dict[str, Any], *permissions: str,
                      message: str = "unauthorized") -> None:
        """At least one of `permissions`, scoped to the team's main room; 403 otherwise."""
        if not await self.store.can_any(req.user, permissions, team["roomId"]):
            raise unauthorized(message)

    # -- teams --------------------------------------------------------------------------------------
    async def create(self, req: RestRequest) -> dict[str, Any]:
        body = req.body
        room = dict(body.get("room") or {})
        extra = dict(room.get("extraData") or {})
        if body.get("sidepanel"):
            extra["sidepanel"] = {"items": list(body["sidepanel"]["items"])}
        team = await self.svc.create(req.user, body["name"], body["type"], body.get("members"),
                                     {"readOnly": room.get("readOnly"), "extra": extra}, body.get("owner"))
        return {"team": team}

    async def list(self, req: RestRequest) -> dict[str, Any]:
        teams, total = await self.svc.list(req.user, req.page)
        return paged("teams", teams, req.page, total)

    async def list_all(self, req: RestRequest) -> dict[str, Any]:
        teams, total = await self.svc.list_all(req.page)
        return paged("teams", teams, req.page, total)

    async def info(self, req: RestRequest) -> dict[str, Any]:
        return {"teamInfo": await self.svc.info(req.user, req.query)}

    async def update(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.require(req, team, "edit-team")
        await self.svc.update(req.user, team, req.body["data"])
        return {}

    async def delete(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.require(req, team, "delete-team")
        await self.svc.delete(req.user, team, req.body.get("roomsToRemove") or [])
        return {}

    async def convert_to_channel(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.require(req, team, "convert-team")
        await self.svc.convert_to_channel(req.user, team, req.body.get("roomsToRemove") or [])
        return {}

    async def autocomplete(self, req: RestRequest) -> dict[str, Any]:
        return {"teams": await self.svc.autocomplete(req.user, req.query["name"])}

    # -- members ------------------------------------------------------------------------------------
    async def list_members(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.query)
        members, total = await self.members.list(req.user, team, req.page, req.query)
        return paged("members", members, req.page, total)

    async def add_members(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.require(req, team, "add-team-member", "edit-team-member")
        await self.members.add_members(req.user, team, req.body["members"])
        return {}

    async def update_member(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.require(req, team, "edit-team-member")
        await self.members.update(team, req.body["member"])
        return {}

    async def remove_member(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.require(req, team, "edit-team-member")
        uid = req.body["userId"]
        if await self.store.user(uid, active_only=True) is None:
            raise fail("invalid-user")
        await self.members.remove(req.user, team, uid)
        rids = await self.svc.rooms.matching(team, req.body.get("rooms"))
        await self.members.remove_from_rooms(uid, rids, req.user["_id"])
        return {}

    async def leave(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.members.remove(req.user, team, req.user["_id"])
        rids = await self.svc.rooms.matching(team, req.body.get("rooms"))
        await self.members.remove_from_rooms(req.user["_id"], rids, None)
        return {}

    # -- team rooms ---------------------------------------------------------------------------------
    async def add_rooms(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.require(req, team, "move-room-to-team", message="error-no-permission-team-channel")
        return {"rooms": await self.svc.rooms.add(req.user, team, req.body["rooms"])}

    async def remove_room(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.body)
        await self.require(req, team, "remove-team-channel")
        any_room = await self.store.can(req.user, "view-all-team-channels", team["roomId"])
        return {"room": await self.svc.rooms.remove(req.user, team, req.body["roomId"], any_room)}

    async def update_room(self, req: RestRequest) -> dict[str, Any]:
        room = await self.store.room(req.body["roomId"])
        if room is None:
            raise fail("invalid-room")
        if not room.get("teamId"):
            raise fail("room-not-on-team")
        team = await self.store.team(room["teamId"])
        if team is None:
            raise fail("team-does-not-exist")
        await self.require(req, team, "edit-team-channel")
        any_room = await self.store.can(req.user, "view-all-team-channels", team["roomId"])
        return {"room": await self.svc.rooms.set_default(req.user, room, req.body["isDefault"], any_room)}

    async def list_rooms(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.query)
        rooms, total = await self.svc.rooms.list(req.user, team, req.query.get("filter"),
                                                 req.query.get("type") == "autoJoin", req.page)
        return paged("rooms", rooms, req.page, total)

    async def list_rooms_of_user(self, req: RestRequest) -> dict[str, Any]:
        team = await self.team(req.query)
        uid = req.query["userId"]
        if uid != req.user["_id"] and not await self.store.can(req.user, "view-all-team-channels", team["roomId"]):
            raise unauthorized()
        rooms, total = await self.svc.rooms.list_of_user(req.user, team, uid, bool(req.query.get("canUserDelete")),
                                                         req.page)
        return paged("rooms", rooms, req.page, total, offset=0)   # Rocket.Chat always answers offset 0 here

    # -- converting rooms -----------------------------------------------------------------------------
    async def convert_channel(self, req: RestRequest) -> dict[str, Any]:
        body = req.body
        room = await (self.store.room(body["channelId"]) if body.get("channelId")
                      else self.store.rooms.find_one({"name": body["channelName"]}))
        if room is None or room.get("t") != "c":
            raise room_not_found("c")
        return await self._convert(req, room)

    async def convert_group(self, req: RestRequest) -> dict[str, Any]:
        body = req.body
        room = await (self.store.room(body["roomId"]) if body.get("roomId")
                      else self.store.rooms.find_one({"name": body["roomName"]}))
        if room is None or room.get("t") != "p" or not await self.store.subscribed(req.user["_id"], [room["_id"]]):
            raise room_not_found("p")
        return await self._convert(req, room)

    async def _convert(self, req: RestRequest, room: dict[str, Any]) -> dict[str, Any]:
        for perm in ("create-team", "edit-room"):
            if not await self.store.can(req.user, perm, room["_id"]):
                raise unauthorized()
        return {"team": await self.svc.convert_room(req.user, room)}


def routes(service: TeamService) -> list[Route]:
    r = TeamRoutes(service)
    listing = {"paginated": True, "query": s.NO_QUERY, "sort_fields": TEAM_SORTS, "filter_fields": TEAM_FILTERS}
    return [
        Route("POST", "teams.create", r.create, permission="create-team", body=s.CREATE),
        Route("GET", "teams.list", r.list, **listing),
        Route("GET", "teams.listAll", r.list_all, permission="view-all-teams", paginated=True, query=s.NO_QUERY),
        Route("GET", "teams.info", r.info, query=s.TEAM_ONLY),
        Route("POST", "teams.update", r.update, body=s.UPDATE),
        Route("POST", "teams.delete", r.delete, body=s.DELETE),
        Route("POST", "teams.convertToChannel", r.convert_to_channel, body=s.DELETE),
        Route("GET", "teams.autocomplete", r.autocomplete, query=s.AUTOCOMPLETE_QUERY),
        Route("GET", "teams.members", r.list_members, query=s.MEMBERS_QUERY, paginated=True),
        Route("POST", "teams.addMembers", r.add_members, body=s.ADD_MEMBERS),
        Route("POST", "teams.updateMember", r.update_member, body=s.UPDATE_MEMBER),
        Route("POST", "teams.removeMember", r.remove_member, body=s.REMOVE_MEMBER),
        Route("POST", "teams.leave", r.leave, body=s.LEAVE),
        Route("POST", "teams.addRooms", r.add_rooms, body=s.ADD_ROOMS),
        Route("POST", "teams.removeRoom", r.remove_room, body=s.REMOVE_ROOM),
        Route("POST", "teams.updateRoom", r.update_room, body=s.UPDATE_ROOM),
        Route("GET", "teams.listRooms", r.list_rooms, query=s.LIST_ROOMS_QUERY, paginated=True),
        Route("GET", "teams.listRoomsOfUser", r.list_rooms_of_user, query=s.LIST_ROOMS_OF_USER_QUERY, paginated=True),
        Route("POST", "channels.convertToTeam", r.convert_channel, body=s.CHANNEL_CONVERT),
        Route("POST", "groups.convertToTeam", r.convert_group, body=s.GROUP_CONVERT),
    ]

