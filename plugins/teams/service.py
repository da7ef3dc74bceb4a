"""Teams: create (with a new main room, or from an existing room), update, delete, convert back to a room,
and the read side (info, lists, autocomplete). Members and team rooms live in their own modules."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from core.context import random_id
from core.errors import ApiError, MeteorError
from core.rest import Page
from plugins.teams.constants import PRIVATE, PUBLIC, ROOM_TYPE
from plugins.teams.members import Members
from plugins.teams.store import TeamStore, fail, now, unauthorized, user_ref
from plugins.teams.team_rooms import TeamRooms

log = logging.getLogger("orbitchat.teams")


def exact_ci(value: str) -> dict[str, Any]:
    """A case-insensitive whole-value match for a schema-checked string (escaped: never a client pattern)."""
    return {"$regex": f"^{re.escape(value)}$", "$options": "i"}


def prefix_ci(value: str) -> dict[str, Any]:
    return {"$regex": f"^{re.escape(value)}", "$options": "i"}


class TeamService:
    def __init__(self, store: TeamStore, members: Members, rooms: TeamRooms) -> None:
        self.store = store
        self.members = members
        self.rooms = rooms

    # -- create -------------------------------------------------------------------------------------
    async def create(self, actor: Mapping[str, Any], name: str, kind: int, members: list[str] | None = None,
                     room: Mapping[str, Any] | None = None, owner: str | None = None,
                     existing_room: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Rocket.Chat's `Team.create`: the main room (created as `owner`, or `existing_room`), the team, its
        members (the owner with the `owner` role) and `teamMain` on the room. Any failure after the name
        checks undoes what was done and reports `error-team-creation`."""
        store = self.store
        name = name.strip()
        if not await self._name_free(name):
            raise fail("team-name-already-exists")
        same_name = await store.rooms.find_one({"name": name}, {"_id": 1})
        if same_name is not None and (existing_room is None or same_name["_id"] != existing_room["_id"]):
            raise fail("room-name-already-exists")
        creator = await store.user(actor["_id"])
        if creator is None:
            raise fail("invalid-user")
        users = await store.active_users(members or [])
        owner_id = owner or creator["_id"]
        ts = now()
        team: dict[str, Any] = {"_id": random_id(), "name": name, "type": kind, "createdAt": ts,
                                "createdBy": user_ref(creator), "_updatedAt": ts, "roomId": ""}
        created_rid = None
        try:
            if existing_room is None:
                spec = dict(room or {})
                created = await store.rooms_call("create", owner_id, ROOM_TYPE[kind], name,
                                                 [u["username"] for u in users if u.get("username")],
                                                 read_only=bool(spec.get("readOnly")), extra=spec.get("extra"))
                created_rid = created["_id"]
            team["roomId"] = created_rid or existing_room["_id"]   # type: ignore[index]
            await store.teams.insert_one(team)
            await self._insert_members(team, creator, owner_id, users)
            await store.rooms_call("set_team", [team["roomId"]], team["_id"], main=True)
        except ApiError as exc:   # e.g. the rooms service refused the name, the owner or the members
            log.info("team %s not created: %s", name, exc.message)
            await self._undo_create(team["_id"], created_rid)
            raise fail("error-team-creation") from None
        except Exception:
            log.exception("team %s not created", name)
            await self._undo_create(team["_id"], created_rid)
            raise fail("error-team-creation") from None
        if existing_room is not None:
            await self._give_owner_role(owner_id, team["roomId"])
            await store.system_message(team["roomId"], "user-converted-to-team", creator, name)
        return team

    async def _name_free(self, name: str) -> bool:
        """Rocket.Chat's `checkUsernameAvailability`: a team name is no user's username and no team's name."""
        if not name:
            return False
        store = self.store
        if await store.users.count_documents({"username": exact_ci(name)}, limit=1):
            return False
        return not await store.teams.count_documents({"name": exact_ci(name)}, limit=1)

    async def _insert_members(self, team: Mapping[str, Any], creator: Mapping[str, Any], owner_id: str,
                              users: list[dict[str, Any]]) -> None:
        ts = now()
        docs = [{"_id": random_id(), "teamId": team["_id"], "userId": u["_id"], "createdAt": ts,
                 "createdBy": user_ref(creator), "_updatedAt": ts} for u in users if u["_id"] != owner_id]
        docs.append({"_id": random_id(), "teamId": team["_id"], "userId": owner_id, "roles": ["owner"],
                     "createdAt": ts, "createdBy": user_ref(creator), "_updatedAt": ts})
        await self.store.members.insert_many(docs, ordered=False)

    async def _undo_create(self, team_id: str, created_rid: str | None) -> None:
        store = self.store
        try:
            await store.members.delete_many({"teamId": team_id})
            await store.teams.delete_one({"_id": team_id})
            if created_rid:
                await store.rooms_call("delete", created_rid)
        except Exception:
            log.exception("cleaning up the failed creation of team %s failed", team_id)

    async def _give_owner_role(self, uid: str, rid: str) -> None:
        """A room turned into a team: its new team owner also owns the main room, where team-scoped
        permissions are checked."""
        roles = await self.store.subscription_roles(rid, uid)
        if "owner" not in roles and await self.store.subscribed(uid, [rid]):
            await self.store.change_room_roles(uid, rid, ["owner"], add=True)

    async def convert_room(self, actor: Mapping[str, Any], room: Mapping[str, Any]) -> dict[str, Any]:
        """channels.convertToTeam / groups.convertToTeam: the room's members become the team's."""
        if room.get("teamId"):
            raise fail("room-already-on-team")
        members = [s["u"]["_id"] async for s in self.store.subs.find({"rid": room["_id"]}, {"u._id": 1})]
        kind = PUBLIC if room.get("t") == "c" else PRIVATE
        return await self.create(actor, room.get("name") or "", kind, members, existing_room=room)

    # -- update and delete ---------------------------------------------------------------------------
    async def update(self, actor: Mapping[str, Any], team: Mapping[str, Any], data: Mapping[str, Any]) -> None:
        """Rocket.Chat's `Team.update`: rename / retype the main room (unless `updateRoom` is false), then
        the team."""
        store = self.store
        name = (data.get("name") or "").strip() or None
        kind = data.get("type")
        if name and name != team["name"]:
            other = await store.teams.find_one({"name": exact_ci(name)}, {"_id": 1})
            if (other is not None and other["_id"] != team["_id"]) or \
                    await store.users.count_documents({"username": exact_ci(name)}, limit=1):
                raise fail("team-name-already-exists")
        settings: dict[str, Any] = {}
        if data.get("updateRoom", True):
            if name:
                settings["roomName"] = name
            if kind is not None:
                settings["roomType"] = ROOM_TYPE[kind]
        if settings:
            await store.rooms_call("save_settings", actor["_id"], team["roomId"], settings)
        changes = {**({"name": name} if name else {}), **({"type": kind} if kind is not None else {})}
        if changes:
            await store.teams.update_one({"_id": team["_id"]}, {"$set": {**changes, "_updatedAt": now()}})

    async def delete(self, actor: Mapping[str, Any], team: Mapping[str, Any], rooms_to_remove: list[str]) -> None:
        """teams.delete: erase the listed team rooms (as the caller), move the others back to the
        workspace, erase the main room, then the memberships and the team."""
        store = self.store
        await self.rooms.erase(actor, team, rooms_to_remove)
        await self.rooms.release(team, include_main=False)
        await store.rooms_call("delete", team["roomId"])
        await self._forget(team["_id"])

    async def convert_to_channel(self, actor: Mapping[str, Any], team: Mapping[str, Any],
                                 rooms_to_remove: list[str]) -> None:
        """teams.convertToChannel: like delete, but the main room stays as a plain room."""
        store = self.store
        await self.rooms.erase(actor, team, rooms_to_remove)
        main = await store.room(team["roomId"])
        if main is not None:
            await store.system_message(main["_id"], "user-converted-to-channel", actor, main.get("name") or "")
        await self.rooms.release(team, include_main=True)
        await self._forget(team["_id"])

    async def _forget(self, team_id: str) -> None:
        await self.store.members.delete_many({"teamId": team_id})
        await self.store.teams.delete_one({"_id": team_id})

    async def on_room_deleted(self, room: Mapping[str, Any]) -> None:
        """A team's main room was erased some other way (channels.delete, rooms.delete): the team goes too,
        and its other rooms go back to the workspace (Rocket.Chat does the same in `eraseRoom`)."""
        if not room.get("teamMain") or not room.get("teamId"):
            return
        team = await self.store.team(room["teamId"])
        if team is None or team.get("roomId") != room.get("_id"):
            return
        await self.rooms.release(team, include_main=False)
        await self._forget(team["_id"])

    # -- read side ------------------------------------------------------------------------------------
    async def info(self, user: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        store = self.store
        team = await store.find(params)
        if team is None:
            raise fail("Team not found")
        if await store.room(team["roomId"]) is None:
            raise fail("Room not found")
        if not (await store.can_access_room(user["_id"], team["roomId"]) or await store.can(user, "view-all-teams")):
            raise unauthorized()
        return team

    async def _with_counts(self, teams: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**t, "rooms": await self.store.count_rooms(t["_id"]),
                 "numberOfUsers": await self.store.count_members(t["_id"])} for t in teams]

    async def _page(self, query: dict[str, Any], page: Page) -> tuple[list[dict[str, Any]], int]:
        store = self.store
        total = await store.teams.count_documents(query)
        cursor = store.teams.find(query).sort(page.sort or [("createdAt", 1)]).skip(page.offset)
        if page.count:
            cursor = cursor.limit(page.count)
        return await self._with_counts([t async for t in cursor]), total

    async def list(self, user: Mapping[str, Any], page: Page) -> tuple[list[dict[str, Any]], int]:
        """The caller's teams, with `rooms` and `numberOfUsers`."""
        ids = [m["teamId"] async for m in self.store.members.find({"userId": user["_id"]}, {"teamId": 1})]
        if not ids:
            return [], 0
        return await self._page({**page.filter, "_id": {"$in": ids}}, page)

    async def list_all(self, page: Page) -> tuple[list[dict[str, Any]], int]:
        return await self._page({}, page)

    async def autocomplete(self, user: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
        """Main rooms of teams whose name starts with `name`: public ones, and private ones the caller is in."""
        store = self.store
        rids = [s["rid"] async for s in store.subs.find({"u._id": user["_id"]}, {"rid": 1})]
        rx = prefix_ci(name.strip())
        query = {"teamMain": True, "$and": [{"$or": [{"name": rx}, {"fname": rx}]},
                                            {"$or": [{"t": "c"}, {"_id": {"$in": rids}}]}]}
        projection = {"fname": 1, "teamId": 1, "name": 1, "t": 1, "avatarETag": 1}
        cursor = store.rooms.find(query, projection).sort([("name", 1), ("fname", 1)]).limit(10)
        return [r async for r in cursor]

    async def room_info(self, rid: str) -> dict[str, Any]:
        """Rocket.Chat's `Team.getRoomInfo`: the team of a room and, for a team room, its main room."""
        store = self.store
        room = await store.room(rid)
        if room is None or not room.get("teamId"):
            return {}
        team = await store.teams.find_one({"_id": room["teamId"]}, {"name": 1, "roomId": 1, "type": 1})
        if team is None:
            return {}
        if room.get("teamMain"):
            return {"team": team}
        parent = await store.rooms.find_one({"_id": team["roomId"]}, {"name": 1, "fname": 1, "t": 1})
        return {"team": team, **({"parentRoom": parent} if parent else {})}


def room_not_found(kind: str) -> MeteorError:
    word = "channel" if kind == "c" else "group"
    return MeteorError("error-room-not-found",
                       f'The required "roomId" or "roomName" param provided does not match any {word}')
