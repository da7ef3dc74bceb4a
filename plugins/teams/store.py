"""What every part of the teams service shares: its two collections, lookups of teams and members, reads of
rooms and users (written only by their owners, through the broker), permission checks, and the errors."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from core.broker import ServiceNotFound
from core.context import random_id
from core.errors import ApiError, MeteorError
from plugins.teams.constants import HIDDEN_ROOM_FIELDS, MEMBERS, ROOMS, SUBSCRIPTIONS, TEAMS, USERS

log = logging.getLogger("orbitchat.teams")

SYSTEM_MESSAGE_TIMEOUT = 5.0


def now() -> datetime:
    return datetime.now(UTC)


def fail(code: str) -> ApiError:
    """Rocket.Chat's `API.v1.failure('<code>')` and its service's `throw new Error('<code>')`: 400 with
    `error` set to the code."""
    return ApiError(code)


def unauthorized(message: str = "unauthorized") -> ApiError:
    """Rocket.Chat's `API.v1.unauthorized()`: 403 with the legacy text."""
    return ApiError(message, status=403)


def public_room(room: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if room is None:
        return None
    return {k: v for k, v in room.items() if k not in HIDDEN_ROOM_FIELDS}


def user_ref(user: Mapping[str, Any]) -> dict[str, Any]:
    return {"_id": user["_id"], "username": user.get("username")}


class TeamStore:
    """Created with the plugin; `start(api)` binds it to the running kernel."""

    api: Any

    def start(self, api: Any) -> None:
        self.api = api
        self.teams = api.db[TEAMS]
        self.members = api.db[MEMBERS]
        self.rooms = api.db[ROOMS]
        self.subs = api.db[SUBSCRIPTIONS]
        self.users = api.db[USERS]

    # -- teams ------------------------------------------------------------------------------------
    async def team(self, team_id: str) -> dict[str, Any] | None:
        return await self.teams.find_one({"_id": team_id}) if isinstance(team_id, str) and team_id else None

    async def team_by_name(self, name: str) -> dict[str, Any] | None:
        return await self.teams.find_one({"name": name}) if isinstance(name, str) and name else None

    async def find(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """Rocket.Chat's `getTeamByIdOrName`: `teamId` first, then `teamName`."""
        if params.get("teamId"):
            return await self.team(params["teamId"])
        if params.get("teamName"):
            return await self.team_by_name(params["teamName"])
        return None

    async def require(self, params: Mapping[str, Any]) -> dict[str, Any]:
        team = await self.find(params)
        if team is None:
            raise fail("team-does-not-exist")
        return team

    # -- members ----------------------------------------------------------------------------------
    async def member(self, team_id: str, uid: str) -> dict[str, Any] | None:
        return await self.members.find_one({"teamId": team_id, "userId": uid})

    async def is_member(self, team_id: str, uid: str) -> bool:
        return await self.members.count_documents({"teamId": team_id, "userId": uid}, limit=1) > 0

    async def insert_member(self, team_id: str, uid: str, created_by: Mapping[str, Any],
                            roles: list[str] | None = None) -> bool:
        """False when the user already was a member (the unique index decides under concurrency)."""
        ts = now()
        doc: dict[str, Any] = {"_id": random_id(), "teamId": team_id, "userId": uid,
                               "createdBy": user_ref(created_by), "createdAt": ts, "_updatedAt": ts}
        if roles:
            doc["roles"] = list(dict.fromkeys(roles))
        try:
            await self.members.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def count_members(self, team_id: str) -> int:
        return await self.members.count_documents({"teamId": team_id})

    # -- rooms and users (read only) --------------------------------------------------------------------------
    async def room(self, rid: str) -> dict[str, Any] | None:
        return await self.rooms.find_one({"_id": rid}) if isinstance(rid, str) and rid else None

    async def team_rooms(self, team_id: str, projection: dict | None = None) -> list[dict[str, Any]]:
        """The team's rooms other than its main room (Rocket.Chat's `Rooms.findByTeamId`)."""
        query = {"teamId": team_id, "teamMain": {"$exists": False}}
        return [r async for r in self.rooms.find(query, projection)]

    async def count_rooms(self, team_id: str) -> int:
        return await self.rooms.count_documents({"teamId": team_id, "teamMain": {"$exists": False}})

    async def user(self, uid: str, active_only: bool = False) -> dict[str, Any] | None:
        if not isinstance(uid, str) or not uid:
            return None
        query: dict[str, Any] = {"_id": uid, **({"active": True} if active_only else {})}
        return await self.users.find_one(query, {"services": 0})

    async def active_users(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        """Rocket.Chat's `findActiveByIdsOrUsernames`, in the order the keys were given."""
        keys = list(dict.fromkeys(k for k in keys if isinstance(k, str) and k))
        if not keys:
            return []
        by_id: dict[str, dict] = {}
        for field in ("_id", "username"):   # two indexed reads: an `$or` scans every user on the embedded database
            async for user in self.users.find({field: {"$in": keys}, "active": True}, {"username": 1, "name": 1}):
                by_id[user["_id"]] = user
        found = list(by_id.values())
        rank = {k: i for i, k in enumerate(keys)}
        return sorted(found, key=lambda u: min(rank.get(u["_id"], 1 << 30), rank.get(u.get("username"), 1 << 30)))

    async def subscribed(self, uid: str, rids: Iterable[str]) -> set[str]:
        rids = list(rids)
        if not rids:
            return set()
        return {s["rid"] async for s in self.subs.find({"u._id": uid, "rid": {"$in": rids}}, {"rid": 1})}

    async def subscription_roles(self, rid: str, uid: str) -> list[str]:
        sub = await self.subs.find_one({"rid": rid, "u._id": uid}, {"roles": 1})
        return list((sub or {}).get("roles") or [])

    # -- permissions ------------------------------------------------------------------------------
    async def can(self, user: Mapping[str, Any], permission: str, rid: str | None = None) -> bool:
        return await self.api.has_permission(user, permission, rid)

    async def can_any(self, user: Mapping[str, Any], permissions: Iterable[str], rid: str | None = None) -> bool:
        for perm in permissions:
            if await self.can(user, perm, rid):
                return True
        return False

    async def can_access_room(self, uid: str, rid: str) -> bool:
        return bool(await self.api.broker.call("authorization.can_access_room", uid, rid))

    # -- other services -------------------------------------------------------------------------------
    async def rooms_call(self, action: str, *args: Any, **kwargs: Any) -> Any:
        return await self.api.broker.call(f"rooms.{action}", *args, **kwargs)

    async def change_room_roles(self, uid: str, rid: str, roles: list[str], add: bool) -> None:
        """Room-scoped roles on a subscription belong to the authorization service."""
        if roles:
            action = "authorization.add_user_roles" if add else "authorization.remove_user_roles"
            await self.api.broker.call(action, uid, list(roles), rid)

    async def system_message(self, rid: str, kind: str, user: Mapping[str, Any], msg: str = "") -> None:
        """A system message in a room; a deployment without messaging simply has none."""
        try:
            ref = {**user_ref(user), **({"name": user["name"]} if user.get("name") else {})}
            await asyncio.wait_for(self.api.broker.call("messaging.system_message", rid, kind, ref, msg, None),
                                   SYSTEM_MESSAGE_TIMEOUT)
        except (TimeoutError, ServiceNotFound):
            return
        except MeteorError as err:
            log.info("system message %s in %s refused: %s", kind, rid, err.message)
        except Exception:
            log.exception("system message %s in %s failed", kind, rid)
