"""Keeping rooms right when users change: a rename updates the names stored on subscriptions, rooms and
direct messages; a deletion removes the user's memberships and one-to-one DMs (Rocket.Chat's deleteUser),
and a room left without an owner gets its oldest member as owner."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from core.context import Context
from plugins.rooms.constants import SUBSCRIPTIONS
from plugins.rooms.lifecycle import Lifecycle
from plugins.rooms.store import RoomStore, now

log = logging.getLogger("orbitchat.rooms")


class People:
    def __init__(self, store: RoomStore, lifecycle: Lifecycle) -> None:
        self.store = store
        self.lifecycle = lifecycle

    # -- renames ------------------------------------------------------------------------------------
    async def on_name_changed(self, event: Mapping[str, Any]) -> None:
        """`user.nameChanged {_id, name, username}`."""
        uid, username = (event or {}).get("_id"), (event or {}).get("username")
        if not isinstance(uid, str) or not isinstance(username, str):
            return
        store, ts = self.store, now()
        ref = {"u.username": username, **({"u.name": event["name"]} if event.get("name") else {})}
        await store.subs.update_many({"u._id": uid}, {"$set": {**ref, "_updatedAt": ts}})
        async for room in store.rooms.find({"u._id": uid}, {"_id": 1}):
            await store.update_room(room["_id"], {"$set": ref})
        async for room in store.rooms.find({"t": "d", "uids": uid}, {"uids": 1}):
            await self._rename_direct(room, ts)
        await store.emit_subscriptions({"u._id": uid, "_updatedAt": ts})

    async def _rename_direct(self, room: Mapping[str, Any], ts: Any) -> None:
        """A DM's `usernames` and each member's subscription name (the other members' names)."""
        store, rid = self.store, room["_id"]
        members = await store.users_by_ids(room.get("uids") or [], {"username": 1, "name": 1})
        ordered = sorted(members, key=lambda u: (u.get("name") or u.get("username") or "").casefold())
        await store.update_room(rid, {"$set": {"usernames": [u.get("username") for u in ordered]}})
        for member in ordered:
            peers = [u for u in ordered if u["_id"] != member["_id"]] or [member]
            await store.subs.update_one({"rid": rid, "u._id": member["_id"]}, {"$set": {
                "name": ", ".join(u.get("username") or "" for u in peers),
                "fname": ", ".join(u.get("name") or u.get("username") or "" for u in peers), "_updatedAt": ts}})
        store.announce_room_subscriptions(rid)

    # -- deletions ----------------------------------------------------------------------------------
    async def on_user_deleted(self, event: Mapping[str, Any]) -> None:
        """`user.deleted {userId, user}`."""
        uid = (event or {}).get("userId")
        if not isinstance(uid, str) or not uid:
            return
        store = self.store
        async for room in store.rooms.find({"t": "d", "uids": uid, "uids.2": {"$exists": False}}):
            await self.lifecycle.delete(None, room, Context.internal())
        subs = [s async for s in store.subs.find({"u._id": uid})]
        for sub in subs:
            await self._drop_membership(sub)

    async def _drop_membership(self, sub: Mapping[str, Any]) -> None:
        store, rid = self.store, sub["rid"]
        if (await store.subs.delete_one({"_id": sub["_id"]})).deleted_count == 0:
            return
        await store.to_trash(SUBSCRIPTIONS, [sub])
        await store.emit_subscription("removed", sub)
        room = await store.update_room(rid, {"$inc": {"usersCount": -1}})
        if room is None or room.get("t") not in ("c", "p") or "owner" not in (sub.get("roles") or ()):
            return
        if await store.subs.count_documents({"rid": rid, "roles": "owner"}, limit=1):
            return
        cursor = store.subs.find({"rid": rid}, {"u": 1}).sort([("ts", 1), ("u.username", 1)]).limit(1)
        heir = [s async for s in cursor]
        if heir:
            await store.update_subscription(rid, heir[0]["u"]["_id"], {"$addToSet": {"roles": "owner"}})
            await store.api.broker.emit("user.roleUpdate", {"type": "added", "_id": "owner", "u": heir[0]["u"],
                                                            "scope": rid})
