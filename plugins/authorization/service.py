"""Authorization logic: seeding of Rocket.Chat's default roles and permissions, the in-process permission
cache, and the checks every service uses (`has_permission`, `has_all`, `has_at_least_one`, `can_access_room`).

A user's roles are its global roles (`users.roles`) plus, when a room is given, the roles on its
subscription to that room (`rocketchat_subscription.roles`: owner, moderator, leader). A permission is held
when any of those roles is listed in `rocketchat_permissions.roles`.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import UpdateOne

from core.doccache import DocCache, room_change
from core.errors import ApiError, MeteorError
from core.storage import find_one_and_update

HERE = Path(__file__).parent
PERMISSION_CHANGED = "permission.changed"
ROLES_CHANGED = "watch.roles"
ABSENT_TTL = 10.0


def now() -> datetime:
    return datetime.now(UTC)


def load_json(name: str) -> list[dict[str, Any]]:
    with open(HERE / name, encoding="utf-8") as f:
        return json.load(f)


class AuthorizationService:
    """Created with the plugin; `start(api)` binds it to the running kernel."""

    api: Any

    def __init__(self) -> None:
        # permission id -> role ids holding it. Replaced wholesale or per entry, never mutated in place,
        # so a check running concurrently with a refresh sees either the old or the new set.
        self.grants: dict[str, frozenset[str]] = {}
        self._absent: dict[str, float] = {}   # permission id -> monotonic time it was last found missing
        # user id -> (_updatedAt, roles) from the latest `watch.users` change of `roles`. A DDP connection
        # keeps the user document it logged in with; this makes a role change apply to it at once.
        self._recent_roles: dict[str, tuple[datetime, list[str]]] = {}
        # What every check reads: users (roles), rooms (type, DM members), subscriptions (existence, roles).
        # Dropped on their change events (see core.doccache).
        self.user_cache = DocCache()
        self.room_cache = DocCache()
        self.sub_cache = DocCache()

    async def start(self, api: Any) -> None:
        self.api = api
        self.db = api.db
        self.permissions = api.db["rocketchat_permissions"]
        self.roles = api.db["rocketchat_roles"]
        self.users = api.db["users"]
        self.subscriptions = api.db["rocketchat_subscription"]
        self.rooms = api.db["rocketchat_room"]
        await self.seed()
        await self.reload()
        await api.broker.subscribe(PERMISSION_CHANGED, self.on_permission_changed)
        await api.broker.subscribe("watch.users", self.on_user_changed)
        await api.broker.subscribe("watch.rooms", self.on_room_changed)
        await api.broker.subscribe("watch.subscriptions", self.on_subscription_changed)

    # -- seeding --------------------------------------------------------------------------------
    def default_permissions(self) -> dict[str, list[str]]:
        """Rocket.Chat's default table plus what other plugins declared (the table wins on a clash)."""
        table = {p["_id"]: list(p["roles"]) for p in load_json("default_permissions.json")}
        for pid, roles in (self.api.permissions or {}).items():
            table.setdefault(pid, list(roles))
        return table

    async def seed(self) -> None:
        """Insert default roles and permissions that are missing; never touch existing ones, so an
        admin's edits survive restarts. One read and at most one bulk write per collection."""
        ts = now()
        roles = load_json("default_roles.json")
        have = {d["_id"] async for d in self.roles.find({"_id": {"$in": [r["_id"] for r in roles]}}, {"_id": 1})}
        missing = [UpdateOne({"_id": r["_id"]}, {"$setOnInsert": {**r, "_updatedAt": ts}}, upsert=True)
                   for r in roles if r["_id"] not in have]
        if missing:
            await self.roles.bulk_write(missing, ordered=False)
        table = self.default_permissions()
        have = {d["_id"] async for d in self.permissions.find({}, {"_id": 1})}
        missing = [UpdateOne({"_id": pid}, {"$setOnInsert": {"_id": pid, "roles": roles, "_updatedAt": ts}},
                             upsert=True)
                   for pid, roles in table.items() if pid not in have]
        if missing:
            await self.permissions.bulk_write(missing, ordered=False)

    # -- cache ----------------------------------------------------------------------------------
    async def reload(self) -> None:
        self.grants = {d["_id"]: frozenset(d.get("roles") or ())
                       async for d in self.permissions.find({}, {"roles": 1})}

    async def reload_one(self, pid: str) -> None:
        doc = await self.permissions.find_one({"_id": pid}, {"roles": 1})
        grants = dict(self.grants)
        if doc is None:
            grants.pop(pid, None)
        else:
            grants[pid] = frozenset(doc.get("roles") or ())
        self.grants = grants

    async def allowed_roles(self, pid: str) -> frozenset[str]:
        """Roles holding `pid`. A permission missing from the cache is looked up once (another process may
        have seeded it for a plugin this one does not run); a miss is remembered for a few seconds."""
        roles = self.grants.get(pid)
        if roles is not None:
            return roles
        seen = self._absent.get(pid)
        if seen is not None and time.monotonic() - seen < ABSENT_TTL:
            return frozenset()
        await self.reload_one(pid)
        if pid in self.grants:
            self._absent.pop(pid, None)
            return self.grants[pid]
        if len(self._absent) > 10000:
            self._absent.clear()
        self._absent[pid] = time.monotonic()
        return frozenset()

    async def on_permission_changed(self, event: Mapping[str, Any]) -> None:
        """Every process refreshes from the database, the source of truth, not from the event body."""
        data = (event or {}).get("data") or {}
        pid = data.get("_id")
        if isinstance(pid, str):
            await self.reload_one(pid)
        else:
            await self.reload()

    def on_room_changed(self, event: Mapping[str, Any]) -> None:
        change = room_change(event)
        if change is not None:
            rid, room = change
            self.room_cache.follow(rid, room and {k: room[k] for k in ("_id", "t", "uids") if k in room})

    def on_subscription_changed(self, event: Mapping[str, Any]) -> None:
        sub = (event or {}).get("subscription") or {}
        rid, uid = sub.get("rid"), (sub.get("u") or {}).get("_id")
        if isinstance(rid, str) and isinstance(uid, str):
            self.sub_cache.forget((rid, uid))

    def on_user_changed(self, event: Mapping[str, Any]) -> None:
        uid = (event or {}).get("id")
        if not isinstance(uid, str):
            return
        self.user_cache.forget(uid)
        if event.get("clientAction") == "removed":
            self._recent_roles.pop(uid, None)
            return
        fields = event.get("diff") or event.get("data") or {}
        if "roles" not in fields:
            return
        ts = fields.get("_updatedAt")
        if len(self._recent_roles) > 10000:
            self._recent_roles.clear()
        self._recent_roles[uid] = (ts if isinstance(ts, datetime) else now(), list(fields.get("roles") or ()))

    def roles_of(self, user: Mapping[str, Any]) -> set[str]:
        """The user's global roles: from the document given, unless a newer role change was announced."""
        recent = self._recent_roles.get(str(user.get("_id")))
        if recent is not None:
            stamp = user.get("_updatedAt")
            if not isinstance(stamp, datetime) or recent[0] > stamp:
                return set(recent[1])
        return set(user.get("roles") or ())

    # -- checks ---------------------------------------------------------------------------------
    async def subscription(self, user_id: str, rid: str) -> dict[str, Any] | None:
        """The user's subscription to `rid` as checks need it (its roles), None when not a member."""
        return await self.sub_cache.get((rid, user_id), lambda: self.subscriptions.find_one(
            {"rid": rid, "u._id": user_id}, {"roles": 1}))

    async def subscription_roles(self, user_id: str, rid: str) -> set[str]:
        sub = await self.subscription(user_id, rid)
        return set((sub or {}).get("roles") or ())

    async def check(self, user: Mapping[str, Any] | None, permissions: Iterable[str], rid: str | None,
                    need_all: bool) -> bool:
        """The core rule. The subscription is read at most once, and only when global roles do not decide."""
        perms = [p for p in permissions]
        if user is None or not perms or not all(isinstance(p, str) for p in perms):
            return False
        roles = self.roles_of(user)
        room_roles: set[str] | None = None
        for perm in perms:
            allowed = await self.allowed_roles(perm)
            held = bool(roles & allowed)
            if not held and rid and isinstance(rid, str) and allowed - roles:
                if room_roles is None:
                    room_roles = await self.subscription_roles(str(user.get("_id")), rid)
                held = bool(room_roles & allowed)
            if held and not need_all:
                return True
            if not held and need_all:
                return False
        return need_all

    async def user_by_id(self, user_id: Any) -> dict[str, Any] | None:
        if isinstance(user_id, Mapping):
            user_id = user_id.get("_id")
        if not isinstance(user_id, str) or not user_id:
            return None
        return await self.user_cache.get(user_id, lambda: self.users.find_one(
            {"_id": user_id}, {"roles": 1, "username": 1, "_updatedAt": 1}))

    async def has_permission(self, user_id: Any, permission: str, rid: str | None = None) -> bool:
        return await self.check(await self.user_by_id(user_id), [permission], rid, need_all=True)

    async def has_all(self, user_id: Any, permissions: list[str], rid: str | None = None) -> bool:
        return await self.check(await self.user_by_id(user_id), list(permissions or ()), rid, need_all=True)

    async def has_at_least_one(self, user_id: Any, permissions: list[str], rid: str | None = None) -> bool:
        return await self.check(await self.user_by_id(user_id), list(permissions or ()), rid, need_all=False)

    async def can_access_room(self, user_id: Any, rid: Any) -> bool:
        """Public room: `view-c-room` or a subscription. Private group: a subscription. Direct message:
        the user is one of `uids`, or has a subscription."""
        user = await self.user_by_id(user_id)
        if user is None or not isinstance(rid, str) or not rid:
            return False
        room = await self.room_cache.get(rid, lambda: self.rooms.find_one({"_id": rid}, {"t": 1, "uids": 1}))
        if room is None:
            return False
        kind = room.get("t")
        if kind == "c" and await self.check(user, ["view-c-room"], None, need_all=True):
            return True
        if kind == "d" and user["_id"] in (room.get("uids") or ()):
            return True
        if kind not in ("c", "p", "d"):
            return False   # livechat and other room types have their own access rules, not ours
        return await self.subscription(user["_id"], rid) is not None

    # -- the permission table -------------------------------------------------------------------
    async def list_permissions(self, since: datetime | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"_updatedAt": {"$gt": since}} if since else {}
        return [d async for d in self.permissions.find(query).sort("_id", 1)]

    async def removed_since(self, collection: str, since: datetime) -> list[dict[str, Any]]:
        """Deletions recorded in Rocket.Chat's trash collection (`rocketchat__trash`) after `since`."""
        cursor = self.db["rocketchat__trash"].find({"__collection__": collection, "_deletedAt": {"$gt": since}},
                                                   {"_id": 1, "_deletedAt": 1})
        return [d async for d in cursor]

    async def set_permission_roles(self, changes: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
        """Replace the roles of each named permission. Every permission and role must exist. Returns the
        updated documents; each change is announced with `permission.changed`."""
        pids = [pid for pid, _ in changes]
        known = {d["_id"] async for d in self.permissions.find({"_id": {"$in": pids}}, {"_id": 1})}
        if len(known) != len(set(pids)):
            raise ApiError("Invalid permission", "error-invalid-permission")
        role_ids = sorted({r for _, roles in changes for r in roles})
        found = {d["_id"] async for d in self.roles.find({"_id": {"$in": role_ids}}, {"_id": 1})}
        if len(found) != len(role_ids):
            raise ApiError("Invalid role", "error-invalid-role")
        for pid, roles in changes:
            if pid == "access-permissions" and "admin" not in roles:
                # Rocket.Chat refuses this too: it would lock every administrator out of this very API.
                raise MeteorError("error-action-not-allowed", "Removing permission is not allowed")
        docs = []
        for pid, roles in changes:
            doc = await find_one_and_update(
                self.permissions, {"_id": pid},
                {"$set": {"roles": list(dict.fromkeys(roles)), "_updatedAt": now()}}, after=True)
            docs.append(doc)
            await self.reload_one(pid)
            await self.api.emit_watch(PERMISSION_CHANGED, {"clientAction": "updated", "data": doc})
        return docs

    async def change_permission_role(self, pid: str, role: str, add: bool) -> None:
        """Add or remove one role on one permission (the DDP methods of Rocket.Chat's admin UI)."""
        doc = await self.permissions.find_one({"_id": pid}, {"roles": 1})
        if doc is None:
            raise MeteorError("error-invalid-permission", "Permission does not exist")
        roles = list(doc.get("roles") or [])
        if add and role not in roles:
            roles.append(role)
        elif not add:
            roles = [r for r in roles if r != role]
        await self.set_permission_roles([(pid, roles)])
