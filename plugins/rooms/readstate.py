"""Read state: mark read / unread, and the `*/get` sync endpoints (subscriptions and rooms, with deletions)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.errors import MeteorError
from plugins.rooms.constants import MESSAGES, MESSAGES_READ_EVENT, ROOMS, SUBSCRIPTIONS
from plugins.rooms.store import RoomStore, now, public_room
from plugins.rooms.visible import count_shown, last_shown

MAX_UNREAD_COUNT = 10_000


class ReadState:
    def __init__(self, store: RoomStore) -> None:
        self.store = store

    async def mark_read(self, user: Mapping[str, Any], room: Mapping[str, Any], read_threads: bool = False) -> None:
        """Rocket.Chat's `readMessages`: unread, alert and mentions cleared, `ls` = now. Unread threads keep
        the alert unless `read_threads` clears them too."""
        store, rid = self.store, room["_id"]
        sub = await store.subscription(rid, user["_id"])
        if sub is None:
            raise MeteorError("error-invalid-subscription", "Invalid subscription", {"method": "readMessages"})
        alert = bool(sub.get("alert") and not read_threads and sub.get("tunread"))
        ts = now()
        update: dict[str, Any] = {"$set": {"open": True, "alert": alert, "unread": 0, "userMentions": 0,
                                           "groupMentions": 0, "ls": ts}}
        if read_threads:
            update["$unset"] = {"tunread": 1, "tunreadUser": 1, "tunreadGroup": 1}
        await store.update_subscription(rid, user["_id"], update)
        await store.api.broker.emit(MESSAGES_READ_EVENT, {"rid": rid, "until": ts})

    async def mark_unread(self, user: Mapping[str, Any], room: Mapping[str, Any] | None = None,
                          message_id: str | None = None) -> None:
        """Rocket.Chat's `unreadMessages`: from a given message on, or from the room's last message."""
        store = self.store
        messages = store.db[MESSAGES]
        if message_id is not None:
            message = await messages.find_one({"_id": message_id}, {"u": 1, "rid": 1, "ts": 1})
            if message is None or (message.get("u") or {}).get("_id") == user["_id"]:
                raise MeteorError("error-action-not-allowed", "Not allowed", {"method": "unreadMessages"})
        else:
            assert room is not None
            message = await last_shown(messages, room["_id"])
            if message is None:
                raise MeteorError("error-no-message-for-unread", "There are no messages to mark unread",
                                  {"method": "unreadMessages"})
        rid = message["rid"]
        if await store.subscription(rid, user["_id"]) is None:
            raise MeteorError("error-invalid-subscription", "Invalid subscription", {"method": "unreadMessages"})
        unread = await count_shown(messages, rid, {"$gte": message["ts"]}, limit=MAX_UNREAD_COUNT)
        await store.update_subscription(rid, user["_id"], {"$set": {"open": True, "alert": True, "ls": message["ts"],
                                                                    "unread": max(1, unread)}})

    # -- sync -----------------------------------------------------------------------------------
    async def removed_since(self, collection: str, since: datetime, query: dict[str, Any]) -> list[dict]:
        cursor = self.store.trash.find({"__collection__": collection, "_deletedAt": {"$gt": since}, **query},
                                       {"_id": 1, "_deletedAt": 1})
        return [d async for d in cursor]

    async def subscriptions(self, uid: str, since: datetime | None = None) -> Any:
        """subscriptions/get: a list, or `{update, remove}` when `since` is given."""
        query: dict[str, Any] = {"u._id": uid}
        if since is not None:
            query["_updatedAt"] = {"$gt": since}
        update = [s async for s in self.store.subs.find(query)]
        if since is None:
            return update
        return {"update": update, "remove": await self.removed_since(SUBSCRIPTIONS, since, {"u._id": uid})}

    async def rooms(self, uid: str, since: datetime | None = None) -> Any:
        """rooms/get: the rooms the user is subscribed to; `{update, remove}` when `since` is given. Only
        rooms deleted while the user belonged to them are listed as removed."""
        store = self.store
        rids = [s["rid"] async for s in store.subs.find({"u._id": uid}, {"rid": 1})]
        query: dict[str, Any] = {"_id": {"$in": rids}}
        if since is not None:
            query["_updatedAt"] = {"$gt": since}
        update = [public_room(r) async for r in store.rooms.find(query)] if rids else []
        if since is None:
            return update
        gone = [s["rid"] async for s in store.trash.find(
            {"__collection__": SUBSCRIPTIONS, "u._id": uid, "_deletedAt": {"$gt": since}}, {"rid": 1})]
        remove = await self.removed_since(ROOMS, since, {"_id": {"$in": gone}}) if gone else []
        return {"update": update, "remove": remove}
