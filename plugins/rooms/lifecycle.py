"""Room lifecycle and per-user visibility: archive, unarchive, delete; hide/open; favorite."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from core.broker import ServiceNotFound
from core.context import Context
from core.errors import MeteorError
from plugins.rooms.constants import ROOMS, SUBSCRIPTIONS
from plugins.rooms.store import RoomStore, ctx_for, public_room

log = logging.getLogger("orbitchat.rooms")

DELETE_PERMISSION = {"c": "delete-c", "p": "delete-p", "d": "delete-d"}


class Lifecycle:
    def __init__(self, store: RoomStore) -> None:
        self.store = store

    async def archive(self, actor: Mapping[str, Any], room: Mapping[str, Any]) -> None:
        store, rid = self.store, room["_id"]
        if not await store.can(actor, "archive-room", rid):
            raise MeteorError("error-not-authorized", "Not authorized", {"method": "archiveRoom"})
        if room["t"] == "d":
            raise MeteorError("error-direct-message-room", "Direct Messages can not be archived",
                              {"method": "archiveRoom"})
        await store.update_room(rid, {"$set": {"archived": True}})
        await store.update_room_subscriptions(rid, {"archived": True, "alert": False, "open": False})
        await store.system_message(rid, "room-archived", actor)

    async def unarchive(self, actor: Mapping[str, Any], room: Mapping[str, Any]) -> None:
        store, rid = self.store, room["_id"]
        if not await store.can(actor, "unarchive-room", rid):
            raise MeteorError("error-not-authorized", "Not authorized", {"method": "unarchiveRoom"})
        if room["t"] == "d":
            raise MeteorError("error-direct-message-room", "Direct Messages can not be unarchived",
                              {"method": "unarchiveRoom"})
        await store.update_room(rid, {"$set": {"archived": False}})
        await store.update_room_subscriptions(rid, {"archived": False, "alert": False, "open": True})
        await store.system_message(rid, "room-unarchived", actor)

    async def delete(self, actor: Mapping[str, Any] | None, room: Mapping[str, Any],
                     ctx: Context | None = None) -> None:
        """Rocket.Chat's `eraseRoom`: messages (through messaging), subscriptions, then the room."""
        store, rid = self.store, room["_id"]
        perm = DELETE_PERMISSION.get(room["t"])
        if actor is not None and (perm is None or not await store.can(actor, perm, rid)):
            raise MeteorError("error-not-allowed", "Not allowed", {"method": "eraseRoom"})
        await self._delete_messages(rid)
        subs = [s async for s in store.subs.find({"rid": rid})]
        await store.to_trash(SUBSCRIPTIONS, subs)
        await store.subs.delete_many({"rid": rid})
        for sub in subs:
            await store.emit_subscription("removed", sub)
        await store.to_trash(ROOMS, [room])
        await store.rooms.delete_one({"_id": rid})
        await store.emit_room("removed", room)
        store.notify("post_room_deleted", room=public_room(room), ctx=ctx_for(actor, ctx))

    async def _delete_messages(self, rid: str) -> None:
        """Messages belong to the messaging service; without it there are none to delete."""
        try:
            await asyncio.wait_for(self.store.api.broker.call("messaging.delete_room_messages", rid), 30)
        except (TimeoutError, ServiceNotFound):
            return
        except Exception:
            log.exception("deleting the messages of room %s failed", rid)

    # -- per-user visibility ------------------------------------------------------------------------
    async def set_open(self, user: Mapping[str, Any], rid: str, is_open: bool) -> int:
        """openRoom / hideRoom: 1 when the subscription changed, 0 otherwise."""
        store = self.store
        sub = await store.subscription(rid, user["_id"])
        if sub is None:
            return 0
        if bool(sub.get("open")) == is_open and (is_open or not sub.get("alert")):
            return 0
        change: dict[str, Any] = {"open": is_open} if is_open else {"open": False, "alert": False}
        await store.update_subscription(rid, user["_id"], {"$set": change})
        return 1

    async def favorite(self, user: Mapping[str, Any], rid: str, favorite: bool) -> int:
        store = self.store
        if await store.subscription(rid, user["_id"]) is None:
            raise MeteorError("error-invalid-subscription", "You must be part of a room to favorite it",
                              {"method": "toggleFavorite"})
        await store.update_subscription(rid, user["_id"], {"$set": {"f": bool(favorite)}})
        return 1
