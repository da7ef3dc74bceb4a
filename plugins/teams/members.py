"""Team members: list, add (also to the main room and the team's auto-join rooms), remove, change roles,
leave; and keeping membership in step with the main room when users join or leave it directly."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from core.errors import MeteorError
from core.rest import Page
from plugins.teams.constants import MEMBER_USER_FIELDS, ROOM_ROLES
from plugins.teams.store import TeamStore, fail, now

log = logging.getLogger("orbitchat.teams")


def contains_ci(value: str) -> dict[str, Any]:
    return {"$regex": re.escape(value), "$options": "i"}


class Members:
    def __init__(self, store: TeamStore) -> None:
        self.store = store

    # -- listing ----------------------------------------------------------------------------------
    async def list(self, user: Mapping[str, Any], team: Mapping[str, Any], page: Page,
                   filters: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """Rocket.Chat's `Team.members`: members who are active users matching the filters; nothing for a
        caller who is neither a member nor allowed `view-all-teams`."""
        store = self.store
        if not await store.is_member(team["_id"], user["_id"]) and \
                not await store.can(user, "view-all-teams", team["roomId"]):
            return [], 0
        members = [m async for m in store.members.find({"teamId": team["_id"]}).sort("createdAt", 1)]
        query: dict[str, Any] = {"_id": {"$in": [m["userId"] for m in members]}, "active": True}
        for key in ("username", "name"):
            if filters.get(key):
                query[key] = contains_ci(filters[key])
        if filters.get("status"):
            query["status"] = {"$in": list(filters["status"])}
        users = {u["_id"]: u async for u in store.users.find(query, MEMBER_USER_FIELDS)}
        matched = [m for m in members if m["userId"] in users]
        return [self._record(m, users[m["userId"]]) for m in page.slice(matched)], len(matched)

    @staticmethod
    def _record(member: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {"user": {k: user[k] for k in ("_id", "username", "name", "status") if k in user}}
        if member.get("roles") is not None:
            record["roles"] = member["roles"]
        record["createdBy"] = member.get("createdBy") or {}
        record["createdAt"] = member.get("createdAt")
        return record

    # -- adding -----------------------------------------------------------------------------------
    async def add_members(self, actor: Mapping[str, Any], team: Mapping[str, Any],
                          members: list[Mapping[str, Any]]) -> None:
        """teams.addMembers: each user joins the team (roles added to what it holds), the main room and,
        when new to the team, its auto-join rooms. Every user is checked before anything changes."""
        store = self.store
        inviter = await store.user(actor["_id"])
        if inviter is None:
            raise fail("invalid-user")
        users = []
        for member in members:
            user = await store.user(member["userId"])
            if user is None or not user.get("username"):
                raise MeteorError("error-invalid-user", "Invalid user", {"method": "addMembers"})
            users.append((user, list(dict.fromkeys(member.get("roles") or []))))
        for user, roles in users:
            await self._add_one(inviter, team, user, roles)

    async def _add_one(self, inviter: Mapping[str, Any], team: Mapping[str, Any], user: Mapping[str, Any],
                       roles: list[str]) -> None:
        store, tid, uid = self.store, team["_id"], user["_id"]
        is_new = await store.insert_member(tid, uid, inviter, roles)
        if not is_new and roles:
            await store.members.update_one({"teamId": tid, "userId": uid},
                                           {"$addToSet": {"roles": {"$each": roles}}, "$set": {"_updatedAt": now()}})
        try:
            await store.rooms_call("add_user", team["roomId"], uid, inviter["_id"])
        except Exception:
            if is_new:   # not in the main room (e.g. an app refused the join): not in the team either
                await store.members.delete_one({"teamId": tid, "userId": uid})
            raise
        room_roles = [r for r in roles if r in ROOM_ROLES]
        if room_roles and await store.subscribed(uid, [team["roomId"]]):
            await store.change_room_roles(uid, team["roomId"], room_roles, add=True)
        if is_new:
            await self.join_default_rooms(inviter, tid, uid)

    async def join_default_rooms(self, inviter: Mapping[str, Any], team_id: str, uid: str) -> None:
        """Rocket.Chat's `addMembersToDefaultRooms`: the team rooms marked `teamDefault`."""
        store = self.store
        query = {"teamId": team_id, "teamDefault": True, "teamMain": {"$exists": False}}
        async for room in store.rooms.find(query, {"_id": 1}):
            try:
                await store.rooms_call("add_user", room["_id"], uid, inviter["_id"])
            except MeteorError as err:
                log.info("%s not added to default room %s: %s", uid, room["_id"], err.message)

    # -- removing ---------------------------------------------------------------------------------
    async def remove(self, actor: Mapping[str, Any], team: Mapping[str, Any], uid: str) -> None:
        """Rocket.Chat's `removeMembers` for one user: out of the team and its main room (as a removal by
        `actor`, or a leave when the user removes itself). The last owner stays."""
        store, tid = self.store, team["_id"]
        existing = await store.member(tid, uid)
        if existing is None and not await store.subscribed(uid, [team["roomId"]]):
            raise fail("member-does-not-exist")
        if existing is not None:
            await self._refuse_last_owner(tid, existing, [])
            await store.members.delete_one({"_id": existing["_id"]})
        remover = actor["_id"] if actor["_id"] != uid else None
        await store.rooms_call("remove_user", team["roomId"], uid, remover)

    async def _refuse_last_owner(self, team_id: str, member: Mapping[str, Any], roles_after: list[str]) -> None:
        if "owner" in (member.get("roles") or ()) and "owner" not in roles_after and \
                await self.store.members.count_documents({"teamId": team_id, "roles": "owner"}) == 1:
            raise fail("last-owner-can-not-be-removed")

    async def remove_from_rooms(self, uid: str, rids: list[str], remover_id: str | None) -> None:
        for rid in rids:
            await self.store.rooms_call("remove_user", rid, uid, remover_id)

    # -- roles ------------------------------------------------------------------------------------
    async def update(self, team: Mapping[str, Any], member: Mapping[str, Any]) -> None:
        """Rocket.Chat's `Team.updateMember`: the member's roles become exactly `roles` (none when absent);
        the room-scoped ones are set on the main room's subscription to match."""
        store, tid, uid = self.store, team["_id"], member["userId"]
        roles = list(dict.fromkeys(member.get("roles") or []))
        existing = await store.member(tid, uid)
        if existing is not None:
            await self._refuse_last_owner(tid, existing, roles)
        await store.members.update_one({"teamId": tid, "userId": uid},
                                       {"$set": {"roles": roles, "_updatedAt": now()}})
        rid = team["roomId"]
        if not await store.subscribed(uid, [rid]):
            return
        held = {r for r in await store.subscription_roles(rid, uid) if r in ROOM_ROLES}
        wanted = {r for r in roles if r in ROOM_ROLES}
        await store.change_room_roles(uid, rid, sorted(wanted - held), add=True)
        await store.change_room_roles(uid, rid, sorted(held - wanted), add=False)

    # -- the main room, joined or left directly ------------------------------------------------------------
    async def on_joined(self, room: Mapping[str, Any], user: Mapping[str, Any],
                        inviter: Mapping[str, Any] | None) -> None:
        """Joining a team's main room (channels.join, an invite) makes the user a team member, as in
        Rocket.Chat's `addUserToRoom`."""
        if not room.get("teamMain") or not room.get("teamId"):
            return
        team = await self.store.team(room["teamId"])
        if team is None:
            return
        by = inviter or user
        if await self.store.insert_member(team["_id"], user["_id"], by):
            await self.join_default_rooms(by, team["_id"], user["_id"])

    async def on_left(self, room: Mapping[str, Any], user: Mapping[str, Any]) -> None:
        """Leaving (or being removed from) the main room ends the team membership."""
        if room.get("teamMain") and room.get("teamId"):
            await self.store.members.delete_one({"teamId": room["teamId"], "userId": user["_id"]})

    async def on_user_deleted(self, event: Mapping[str, Any]) -> None:
        uid = (event or {}).get("userId")
        if isinstance(uid, str) and uid:
            await self.store.members.delete_many({"userId": uid})
