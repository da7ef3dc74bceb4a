"""What every part of the rooms service shares: the collections, lookups, change events, the trash,
permission and access checks, and system messages sent through the messaging service."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from core.broker import ServiceNotFound
from core.context import Context
from core.errors import MeteorError
from core.storage import find_one_and_update
from plugins.rooms.constants import (
    HIDDEN_ROOM_FIELDS,
    MEMBER_FIELDS,
    ROOM_EVENT,
    ROOMS,
    SUBSCRIPTION_EVENT,
    SUBSCRIPTIONS,
    TRASH,
    USERS,
)

log = logging.getLogger("orbitchat.rooms")

SYSTEM_MESSAGE_TIMEOUT = 5.0
ANNOUNCE_BY_ID = 50     # up to this many changed members are read back one by one, more with one room pass
IDS_PER_QUERY = 100     # ids per `$in`: long `$in` lists cost the embedded database quadratic time


def now() -> datetime:
    return datetime.now(UTC)


def public_room(room: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A room as clients may see it: never `joinCode` and the other hidden fields."""
    if room is None:
        return None
    return {k: v for k, v in room.items() if k not in HIDDEN_ROOM_FIELDS}


def user_ref(user: Mapping[str, Any], with_name: bool = True) -> dict[str, Any]:
    ref = {"_id": user["_id"], "username": user.get("username")}
    if with_name and user.get("name") is not None:
        ref["name"] = user.get("name")
    return ref


class RoomStore:
    """Created with the plugin; `start(api)` binds it to the running kernel."""

    api: Any

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._pending: dict[str, set[str] | None] = {}
        self._running: set[str] = set()

    def start(self, api: Any) -> None:
        self.api = api
        self.db = api.db
        self.rooms = api.db[ROOMS]
        self.subs = api.db[SUBSCRIPTIONS]
        self.users = api.db[USERS]
        self.trash = api.db[TRASH]

    def setting(self, sid: str, default: Any = None) -> Any:
        value = self.api.settings.get(sid, default)
        return default if value is None else value

    # -- lookups --------------------------------------------------------------------------------
    async def room(self, rid: str) -> dict[str, Any] | None:
        return await self.rooms.find_one({"_id": rid}) if isinstance(rid, str) and rid else None

    async def room_by_name(self, name: str) -> dict[str, Any] | None:
        return await self.rooms.find_one({"name": name}) if isinstance(name, str) and name else None

    async def subscription(self, rid: str, uid: str) -> dict[str, Any] | None:
        if not (isinstance(rid, str) and isinstance(uid, str)):
            return None
        return await self.subs.find_one({"rid": rid, "u._id": uid})

    async def user(self, uid: str) -> dict[str, Any] | None:
        if not isinstance(uid, str) or not uid:
            return None
        return await self.users.find_one({"_id": uid}, {"services": 0})

    async def user_by_username(self, username: str) -> dict[str, Any] | None:
        if not isinstance(username, str) or not username:
            return None
        name = username.removeprefix("@")
        return await self.users.find_one({"username": name}, {"services": 0})

    async def users_by_usernames(self, usernames: Iterable[str]) -> list[dict[str, Any]]:
        names = list(dict.fromkeys(n for n in usernames if isinstance(n, str) and n))
        if not names:
            return []
        return [u async for u in self.users.find({"username": {"$in": names}}, {"services": 0})]

    async def users_by_ids(self, uids: Iterable[str], projection: dict | None = None) -> list[dict[str, Any]]:
        ids = list(dict.fromkeys(uids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), IDS_PER_QUERY):
            found += [u async for u in self.users.find({"_id": {"$in": ids[start:start + IDS_PER_QUERY]}},
                                                       projection or MEMBER_FIELDS)]
        return found

    # -- permissions and access ---------------------------------------------------------------------
    async def can(self, user: Mapping[str, Any] | None, permission: str, rid: str | None = None) -> bool:
        return await self.api.has_permission(user, permission, rid)

    async def can_access(self, room: Mapping[str, Any], user: Mapping[str, Any] | None) -> bool:
        """Rocket.Chat's `canAccessRoom` for c/p/d: asked of the authorization service, with the same rule
        applied here when that service is not running."""
        if user is None:
            return False
        try:
            return bool(await self.api.broker.call("authorization.can_access_room", user["_id"], room["_id"]))
        except ServiceNotFound:
            pass
        kind = room.get("t")
        if kind == "c" and await self.can(user, "view-c-room"):
            return True
        if kind == "d" and user["_id"] in (room.get("uids") or ()):
            return True
        return await self.subs.count_documents({"rid": room["_id"], "u._id": user["_id"]}, limit=1) > 0

    # -- change events --------------------------------------------------------------------------
    async def emit_room(self, action: str, room: Mapping[str, Any] | None) -> None:
        if room is not None:
            await self.api.emit_watch(ROOM_EVENT, {"clientAction": action, "room": public_room(room)})

    async def emit_subscription(self, action: str, sub: Mapping[str, Any] | None) -> None:
        if sub is None:
            return
        if action == "removed":
            sub = {k: sub[k] for k in ("_id", "u", "rid", "t") if k in sub}
        await self.api.emit_watch(SUBSCRIPTION_EVENT, {"clientAction": action, "subscription": dict(sub)})

    async def emit_subscriptions(self, query: dict[str, Any], only: set[str] | None = None) -> None:
        """Announce every subscription matching `query` (after a bulk update); `only`: of these users."""
        async for sub in self.subs.find(query):
            if only is None or (sub.get("u") or {}).get("_id") in only:
                await self.emit_subscription("updated", sub)

    def announce_room_subscriptions(self, rid: str, uids: Iterable[str] | None = None) -> None:
        """Announce, in the background, the subscriptions of `rid` just changed: those of `uids`, or of
        every member (None).

        A bulk update of a large room must not make its caller wait for one event per member. Runs for
        one room are serialised and coalesced: a burst of changes costs one read per pending batch, and
        a member never sees an older state of its subscription after a newer one.
        """
        wanted = None if uids is None else set(uids)
        if rid in self._pending:
            pending = self._pending[rid]
            self._pending[rid] = None if pending is None or wanted is None else pending | wanted
        else:
            self._pending[rid] = wanted
        if rid not in self._running:
            self._running.add(rid)
            self.spawn(self._announce_loop(rid))

    async def _announce_loop(self, rid: str) -> None:
        try:
            while rid in self._pending:
                who = self._pending.pop(rid)
                if who is not None and len(who) <= ANNOUNCE_BY_ID:
                    await self.emit_subscriptions({"rid": rid, "u._id": {"$in": sorted(who)}})
                else:   # every member, or so many that one pass over the room is cheaper than a lookup each
                    await self.emit_subscriptions({"rid": rid}, who)
        except Exception:
            log.exception("announcing subscription changes of %s failed", rid)
        finally:
            self._running.discard(rid)

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for background announcements (shutdown and tests)."""
        while self._tasks:
            done, _ = await asyncio.wait(list(self._tasks), timeout=timeout)
            if not done:
                return

    # -- writes shared by several parts --------------------------------------------------------------
    async def update_room(self, rid: str, update: dict[str, Any]) -> dict[str, Any] | None:
        """Apply `update` (a Mongo update document) to a room, stamp `_updatedAt`, announce the change."""
        update = dict(update)
        update["$set"] = {**update.get("$set", {}), "_updatedAt": now()}
        room = await find_one_and_update(self.rooms, {"_id": rid}, update, after=True)
        await self.emit_room("updated", room)
        return room

    async def update_room_if(self, query: dict[str, Any], update: dict[str, Any]) -> dict[str, Any] | None:
        """As `update_room`, only when the room matches `query`; None (and no event) otherwise."""
        update = dict(update)
        update["$set"] = {**update.get("$set", {}), "_updatedAt": now()}
        room = await find_one_and_update(self.rooms, query, update, after=True)
        await self.emit_room("updated", room)
        return room

    async def update_subscription(self, rid: str, uid: str, update: dict[str, Any]) -> dict[str, Any] | None:
        update = dict(update)
        update["$set"] = {**update.get("$set", {}), "_updatedAt": now()}
        sub = await find_one_and_update(self.subs, {"rid": rid, "u._id": uid}, update, after=True)
        await self.emit_subscription("updated", sub)
        return sub

    async def update_room_subscriptions(self, rid: str, fields: dict[str, Any]) -> None:
        """Copy room-level fields onto every member's subscription (name, type, archived, ...)."""
        ts = now()
        await self.subs.update_many({"rid": rid}, {"$set": {**fields, "_updatedAt": ts}})
        self.announce_room_subscriptions(rid)

    async def to_trash(self, collection: str, docs: Iterable[Mapping[str, Any]]) -> None:
        """Rocket.Chat keeps deleted documents in `rocketchat__trash` (the `remove` half of `*/get`)."""
        ts = now()
        for doc in docs:
            entry = {**doc, "__collection__": collection, "_deletedAt": ts, "_updatedAt": ts}
            await self.trash.replace_one({"_id": doc["_id"]}, entry, upsert=True)

    # -- messaging ------------------------------------------------------------------------------
    async def system_message(self, rid: str, kind: str, user: Mapping[str, Any], msg: str = "",
                             extra: dict[str, Any] | None = None) -> None:
        """Ask messaging for a system message; a deployment without messaging simply has none."""
        try:
            await asyncio.wait_for(self.api.broker.call("messaging.system_message", rid, kind, user_ref(user),
                                                        msg, extra), SYSTEM_MESSAGE_TIMEOUT)
        except (TimeoutError, ServiceNotFound):
            return
        except MeteorError as err:
            log.info("system message %s in %s refused: %s", kind, rid, err.message)
        except Exception:
            log.exception("system message %s in %s failed", kind, rid)

    # -- hooks ----------------------------------------------------------------------------------
    async def deny(self, hook: str, message: str, **kwargs: Any) -> None:
        """Run a `pre_*_prevent` hook; a refusal becomes Rocket.Chat's `error-app-prevented` (400)."""
        denial = await self.api.hooks.first_deny(hook, **kwargs)
        if denial is not None:
            raise MeteorError("error-app-prevented", denial.reason or message)

    def notify(self, hook: str, **kwargs: Any) -> None:
        self.api.hooks.notify(hook, **kwargs)


def ctx_for(user: Mapping[str, Any] | None, ctx: Context | None = None) -> Context:
    return ctx if ctx is not None else Context.internal(user)
