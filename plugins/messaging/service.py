"""The messaging service: shared state (collections, settings, broker) and the small helpers every part uses.

The parts — `guard` (room access), `pipeline` (send/update), `deletion`, `actions` (reactions, pins, stars,
follows), `queries` (history and listings) — hold a reference back to it and reach the kernel through it
once `start(api)` has run.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.batching import InsertBatcher
from core.doccache import DocCache, room_change
from core.jsonutil import copy_tree
from core.ratelimit import RateLimiter
from core.storage import retire_indexes
from plugins.messaging.constants import (
    DELETE_EVENT,
    MESSAGE_EVENT,
    MESSAGES,
    ROOMS,
    SUBSCRIPTIONS,
    TRASH,
    USERS,
)
from plugins.messaging.models import RETIRED_INDEXES
from plugins.messaging.parsing import DEFAULT_NAME_PATTERN, MentionParser

USER_FIELDS = {"_id": 1, "username": 1, "name": 1, "type": 1, "active": 1, "roles": 1, "language": 1}


def now() -> datetime:
    """Millisecond precision, as Rocket.Chat (and BSON dates) keep it: what is stored is what is returned."""
    ts = datetime.now(UTC)
    return ts.replace(microsecond=ts.microsecond - ts.microsecond % 1000)


class MessagingService:
    """Created with the plugin; `start(api)` binds it to the running kernel."""

    api: Any

    def __init__(self) -> None:
        from plugins.messaging.access import RoomGuard
        from plugins.messaging.actions import MessageActions
        from plugins.messaging.deletion import MessageDeletion
        from plugins.messaging.pipeline import MessagePipeline
        from plugins.messaging.queries import MessageQueries

        self.limiter = RateLimiter()
        # Rooms and senders read on every message; dropped on their change events (see core.doccache).
        self.room_cache = DocCache()
        self.user_cache = DocCache()
        self._parser: MentionParser | None = None
        self.guard = RoomGuard(self)
        self.pipeline = MessagePipeline(self)
        self.deletion = MessageDeletion(self)
        self.actions = MessageActions(self)
        self.queries = MessageQueries(self)

    async def start(self, api: Any) -> None:
        self.api = api
        db = api.db
        self.messages = db[MESSAGES]
        self.inserts = InsertBatcher(self.messages)   # concurrent sends share one insert_many
        self.rooms = db[ROOMS]
        self.subscriptions = db[SUBSCRIPTIONS]
        self.users = db[USERS]
        self.trash = db[TRASH]
        self.log = api.logger("messaging")
        await api.broker.subscribe("watch.rooms", self.on_room_changed)
        await api.broker.subscribe("watch.users", self.on_user_changed)
        await retire_indexes(self.messages, *RETIRED_INDEXES)
        # The trash is Rocket.Chat's shared record of deletions; messaging writes only its own entries.
        await self.trash.create_index([("__collection__", 1), ("rid", 1), ("_deletedAt", 1)],
                                      name="__collection___1_rid_1__deletedAt_1")

    # -- settings and permissions ---------------------------------------------------------------------
    def setting(self, sid: str, default: Any = None) -> Any:
        value = self.api.settings.get(sid)
        return default if value is None else value

    @property
    def parser(self) -> MentionParser:
        users = str(self.setting("UTF8_User_Names_Validation", DEFAULT_NAME_PATTERN))
        channels = str(self.setting("UTF8_Channel_Names_Validation", DEFAULT_NAME_PATTERN))
        if self._parser is None or (self._parser.user_pattern, self._parser.channel_pattern) != (users, channels):
            self._parser = MentionParser(users, channels)
        return self._parser

    async def has_permission(self, user: Mapping[str, Any], permission: str, rid: str | None = None) -> bool:
        return await self.api.has_permission(user, permission, rid)

    async def can_access(self, user_id: str, rid: str) -> bool:
        return bool(await self.api.broker.call("authorization.can_access_room", user_id, rid))

    # -- documents ---------------------------------------------------------------------------------------
    async def get_message(self, mid: Any) -> dict[str, Any] | None:
        if not isinstance(mid, str) or not mid:
            return None
        return await self.messages.find_one({"_id": mid})

    async def get_room(self, rid: Any) -> dict[str, Any] | None:
        if not isinstance(rid, str) or not rid:
            return None
        room = await self.room_cache.get(rid, lambda: self.rooms.find_one({"_id": rid}))
        return dict(room) if room is not None else None

    async def get_subscription(self, rid: str, user_id: str, projection: dict | None = None) -> dict | None:
        return await self.subscriptions.find_one({"rid": rid, "u._id": user_id}, projection)

    async def get_user(self, user: Mapping[str, Any]) -> dict[str, Any]:
        """The acting user with the fields messages need (`name` is not always in the auth context)."""
        if "name" in user and "username" in user:
            return dict(user)
        uid = user["_id"]
        doc = await self.user_cache.get(uid, lambda: self.users.find_one({"_id": uid}, USER_FIELDS))
        return {**dict(user), **(doc or {})}

    def on_room_changed(self, event: Any) -> None:
        change = room_change(event)
        if change is not None:
            self.room_cache.follow(*change)

    def on_user_changed(self, event: Any) -> None:
        uid = event.get("id") if isinstance(event, dict) else None
        if isinstance(uid, str):
            self.user_cache.forget(uid)

    # -- events ------------------------------------------------------------------------------------------
    async def emit(self, message: dict[str, Any], action: str = "updated") -> None:
        """`watch.messages`: rooms keeps its counters from it, ddp_streamer fans it out to clients."""
        await self.api.emit_watch(MESSAGE_EVENT, {"clientAction": action, "message": copy_tree(message)})

    async def emit_deleted(self, rid: str, mid: str) -> None:
        await self.api.broker.emit(DELETE_EVENT, {"rid": rid, "_id": mid})

    async def emit_changed(self, mid: str) -> dict[str, Any] | None:
        """Re-read a message after an atomic update and announce it."""
        doc = await self.get_message(mid)
        if doc is not None:
            await self.emit(doc, "updated")
        return doc
