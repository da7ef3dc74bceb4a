"""Team rooms: move rooms into a team and out again, mark auto-join rooms, list a team's rooms, and the
bulk steps team deletion and conversion need. Room documents change only through the rooms service."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.errors import MeteorError
from core.rest import Page
from plugins.teams.constants import PRIVATE
from plugins.teams.store import TeamStore, fail, public_room

DEFAULT_USER_LIMIT = 500


class TeamRooms:
    def __init__(self, store: TeamStore) -> None:
        self.store = store

    async def matching(self, team: Mapping[str, Any], rids: list[str] | None) -> list[str]:
        """Rocket.Chat's `getMatchingTeamRooms`: which of `rids` are rooms of the team (never its main room)."""
        rids = [r for r in dict.fromkeys(rids or []) if isinstance(r, str) and r]
        if not rids:
            return []
        query = {"teamId": team["_id"], "_id": {"$in": rids}, "teamMain": {"$exists": False}}
        return [r["_id"] async for r in self.store.rooms.find(query, {"_id": 1})]

    # -- moving rooms in and out ---------------------------------------------------------------------
    async def add(self, actor: Mapping[str, Any], team: Mapping[str, Any], rids: list[str]) -> list[dict[str, Any]]:
        """Rocket.Chat's `Team.addRooms`: every room must exist, be visible to the caller, be in no team, and
        be owned by the caller. All are checked before any moves."""
        store = self.store
        rids = list(dict.fromkeys(rids))
        rooms = {r["_id"]: r async for r in store.rooms.find({"_id": {"$in": rids}})}
        if len(rooms) < len(rids):
            raise fail("invalid-room")
        for room in rooms.values():
            if room.get("t") not in ("c", "p") or not await store.can_access_room(actor["_id"], room["_id"]):
                raise fail("invalid-room")
        for room in rooms.values():
            if room.get("teamId"):
                raise fail("room-already-on-team")
            if "owner" not in await store.subscription_roles(room["_id"], actor["_id"]):
                raise fail("error-no-owner-channel")
        for rid in rids:
            if rooms[rid].get("t") == "c":
                await store.system_message(team["roomId"], "user-added-room-to-team", actor,
                                           rooms[rid].get("name") or "")
        return await store.rooms_call("set_team", rids, team["_id"])

    async def _visible_team_room(self, actor: Mapping[str, Any], rid: str, any_room: bool) -> dict[str, Any]:
        room = await self.store.room(rid)
        if room is None:
            raise fail("invalid-room")
        if not any_room and not await self.store.can_access_room(actor["_id"], rid):
            raise fail("invalid-room")
        return room

    async def remove(self, actor: Mapping[str, Any], team: Mapping[str, Any], rid: str,
                     any_room: bool) -> dict[str, Any]:
        """Rocket.Chat's `Team.removeRoom`. The main room cannot leave its own team."""
        room = await self._visible_team_room(actor, rid, any_room)
        if room.get("teamId") != team["_id"]:
            raise fail("room-not-on-that-team")
        if room.get("teamMain"):
            raise fail("error-cannot-remove-team-main-room")
        changed = await self.store.rooms_call("set_team", [rid], None)
        if room.get("t") == "c":
            await self.store.system_message(team["roomId"], "user-removed-room-from-team", actor,
                                            room.get("name") or "")
        return changed[0] if changed else public_room(room) or {}

    async def set_default(self, actor: Mapping[str, Any], room: Mapping[str, Any], is_default: bool,
                          any_room: bool) -> dict[str, Any]:
        """Rocket.Chat's `Team.updateRoom`: an auto-join room gets every team member at once."""
        store = self.store
        await self._visible_team_room(actor, room["_id"], any_room)
        await store.rooms_call("set_team_default", room["_id"], is_default)
        if is_default:
            limit = int(store.api.settings.get("API_User_Limit", DEFAULT_USER_LIMIT) or DEFAULT_USER_LIMIT)
            creator = (room.get("u") or {}).get("_id")
            members = [m async for m in store.members.find({"teamId": room["teamId"]}, {"userId": 1})
                       if m["userId"] != creator]   # in code: an `$ne` query scans on the embedded database
            for member in members[:limit]:
                try:
                    await store.rooms_call("add_user", room["_id"], member["userId"], actor["_id"])
                except MeteorError:
                    continue   # an inactive or refused user is skipped, as Rocket.Chat does
        return public_room(await store.room(room["_id"])) or {}

    async def erase(self, actor: Mapping[str, Any], team: Mapping[str, Any], rids: list[str] | None) -> None:
        """Erase the listed team rooms as the caller (`eraseRoom`); every permission is checked first."""
        store = self.store
        rooms = [await store.room(rid) for rid in await self.matching(team, rids)]
        for room in rooms:
            if room is not None and not await store.can(actor, f"delete-{room['t']}", room["_id"]):
                raise MeteorError("error-not-allowed", "Not allowed", {"method": "eraseRoom"})
        for room in rooms:
            if room is not None:
                await store.rooms_call("delete", room["_id"], actor["_id"])

    async def release(self, team: Mapping[str, Any], include_main: bool) -> None:
        """Rocket.Chat's `unsetTeamIdOfRooms`: the team's rooms go back to the workspace."""
        rids = [r["_id"] async for r in self.store.rooms.find({"teamId": team["_id"]}, {"_id": 1, "teamMain": 1})
                if include_main or "teamMain" not in r]
        if rids:
            await self.store.rooms_call("set_team", rids, None)

    # -- listing ----------------------------------------------------------------------------------
    async def _require_visible(self, user: Mapping[str, Any], team: Mapping[str, Any]) -> None:
        if team.get("type") == PRIVATE and not await self.store.can(user, "view-all-teams", team["roomId"]) \
                and not await self.store.is_member(team["_id"], user["_id"]):
            raise fail("user-not-on-private-team")

    async def list(self, user: Mapping[str, Any], team: Mapping[str, Any], name: str | None, auto_join: bool,
                   page: Page) -> tuple[list[dict[str, Any]], int]:
        """Rocket.Chat's `Team.listRooms`: the team's rooms (not the main room); without
        `view-all-team-channels`, only public ones and those the caller is in."""
        store = self.store
        await self._require_visible(user, team)
        # The team's rooms through the teamId index, filtered here: the same conditions as a query
        # (`$exists: false`, `$ne`, `$or`) make the embedded database scan every room.
        query: dict[str, Any] = {"teamId": team["_id"], **({"teamDefault": True} if auto_join else {})}
        pattern = re.compile(re.escape(name.strip()), re.IGNORECASE) if name and name.strip() else None
        rooms = [r async for r in store.rooms.find(query)
                 if "teamMain" not in r and (pattern is None or pattern.search(str(r.get("name") or "")))]
        if not await store.can(user, "view-all-team-channels", team["roomId"]):
            joined = await store.subscribed(user["_id"], [r["_id"] for r in rooms if r.get("t") != "c"])
            rooms = [r for r in rooms if r.get("t") == "c" or r["_id"] in joined]
        rooms.sort(key=lambda r: r.get("ts") or datetime.min.replace(tzinfo=UTC))
        end = page.offset + page.count if page.count else None
        return [public_room(r) for r in rooms[page.offset:end]], len(rooms)

    async def list_of_user(self, caller: Mapping[str, Any], team: Mapping[str, Any], uid: str, deletable_only: bool,
                           page: Page) -> tuple[list[dict[str, Any]], int]:
        """Rocket.Chat's `Team.listRoomsOfUser`: the team rooms `uid` is in (optionally only those it may
        delete), each with `isLastOwner`."""
        store = self.store
        await self._require_visible(caller, team)
        rooms = [r for r in await store.team_rooms(team["_id"], {"_id": 1, "t": 1}) if r.get("t") in ("c", "p")]
        if deletable_only:
            rooms = await self._deletable(uid, team, rooms)
        subscribed = await store.subscribed(uid, [r["_id"] for r in rooms])
        ids = [r["_id"] for r in rooms if r["_id"] in subscribed]
        cursor = store.rooms.find({"_id": {"$in": ids}}).sort([("ts", 1)]).skip(page.offset)
        if page.count:
            cursor = cursor.limit(page.count)
        out = []
        async for room in cursor:
            roles = await store.subscription_roles(room["_id"], uid)
            owners = await store.subs.count_documents({"rid": room["_id"], "roles": "owner"}) if "owner" in roles else 0
            out.append({**(public_room(room) or {}), "isLastOwner": owners == 1})
        return out, len(ids)

    async def _deletable(self, uid: str, team: Mapping[str, Any], rooms: list[dict[str, Any]]) -> list[dict[str, Any]]:
        store = self.store
        user = await store.user(uid)
        if user is None:
            return []
        allowed = {"c": await store.can(user, "delete-team-channel", team["roomId"]),
                   "p": await store.can(user, "delete-team-group", team["roomId"])}
        return [r for r in rooms if allowed[r["t"]] and await store.can(user, f"delete-{r['t']}", r["_id"])]
