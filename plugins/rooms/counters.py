"""Room and subscription counters kept current from the messaging service's `watch.messages` events
(Rocket.Chat's `notifyUsersOnMessage` / `updateUsersSubscriptions` / thread `reply`).

Each new message costs one room update and a few bulk subscription updates, whatever the room size: no
per-member loop touches the database (a 1000-member room stays as fast as a 2-member one).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from plugins.rooms.constants import MESSAGES
from plugins.rooms.store import RoomStore, now

log = logging.getLogger("orbitchat.rooms")

GROUP_MENTIONS = ("all", "here")


def mentions_of(message: Mapping[str, Any], sender: str) -> tuple[list[str], bool]:
    """(user ids mentioned, whether @all/@here was used); the sender never counts as mentioned."""
    users: list[str] = []
    group = False
    for m in message.get("mentions") or ():
        mid = m.get("_id") if isinstance(m, Mapping) else None
        if mid in GROUP_MENTIONS:
            group = True
        elif isinstance(mid, str) and mid != sender and m.get("type", "user") == "user":
            users.append(mid)
    return list(dict.fromkeys(users)), group


class Counters:
    def __init__(self, store: RoomStore) -> None:
        self.store = store

    async def on_message_event(self, event: Mapping[str, Any]) -> None:
        message = (event or {}).get("message")
        if not isinstance(message, Mapping) or not isinstance(message.get("rid"), str):
            return
        action = event.get("clientAction")
        if action == "inserted":
            await self.on_new_message(message)
        elif action == "updated":
            await self.on_updated_message(message)

    async def on_new_message(self, message: Mapping[str, Any]) -> None:
        rid = message["rid"]
        sender = (message.get("u") or {}).get("_id")
        room = await self.store.rooms.find_one({"_id": rid}, {"t": 1, "lm": 1})
        if room is None:
            return
        if message.get("t") or message.get("_hidden"):
            # System messages only count (Rocket.Chat's saveSystemMessage increments `msgs`).
            await self.store.update_room(rid, {"$inc": {"msgs": 1}})
            return
        in_thread_only = bool(message.get("tmid")) and not message.get("tshow")
        await self._update_room(rid, message, last=not in_thread_only)
        if message.get("tmid"):
            await self._thread_reply(rid, message, sender)
        if not in_thread_only:
            await self._member_counters(rid, room["t"], message, sender)

    async def _update_room(self, rid: str, message: Mapping[str, Any], last: bool) -> None:
        """`msgs`+1; `lm`/`lastMessage` unless a newer message already set them (concurrent sends)."""
        store = self.store
        ts = message.get("ts")
        if last and isinstance(ts, datetime):
            fields: dict[str, Any] = {"lm": ts}
            if store.setting("Store_Last_Message", True):
                fields["lastMessage"] = dict(message)
            updated = await store.update_room_if({"_id": rid, "$or": [{"lm": None}, {"lm": {"$lte": ts}}]},
                                                 {"$inc": {"msgs": 1}, "$set": fields})
            if updated:
                return
        await store.update_room(rid, {"$inc": {"msgs": 1}})

    def _unread_policy(self, kind: str) -> str:
        if kind == "d":
            value = self.store.setting("Unread_Count_DM", "all_messages")
            return "all_messages" if value == "all_messages" else "user_and_group_mentions_only"
        return str(self.store.setting("Unread_Count", "all_messages"))

    async def _member_counters(self, rid: str, kind: str, message: Mapping[str, Any], sender: str | None) -> None:
        """Mentioned members: userMentions+1; with @all/@here everyone else: groupMentions+1; unread+1 as
        the Unread_Count setting says; every other member gets `alert` and `open`. At most three writes."""
        subs = self.store.subs
        users, group = mentions_of(message, sender or "")
        policy = self._unread_policy(kind)
        count_user = policy in ("all_messages", "user_mentions_only", "user_and_group_mentions_only")
        count_group = policy in ("all_messages", "group_mentions_only", "user_and_group_mentions_only")
        stamp = now()
        base = {"$set": {"alert": True, "open": True, "_updatedAt": stamp}}
        if users:
            await subs.update_many({"rid": rid, "u._id": {"$in": users}},
                                   {**base, "$inc": {"userMentions": 1, "unread": 1 if count_user else 0}})
        others = {"rid": rid, "u._id": {"$nin": [sender, *users]}}
        if group:
            await subs.update_many(others, {**base, "$inc": {"groupMentions": 1, "unread": 1 if count_group else 0}})
        elif policy == "all_messages":
            await subs.update_many(others, {**base, "$inc": {"unread": 1}})
        else:
            await subs.update_many(others, base)
        self.store.announce_room_subscriptions(rid, stamp)

    async def _thread_reply(self, rid: str, message: Mapping[str, Any], sender: str | None) -> None:
        """Followers of the thread (its `replies` plus the parent's author) and the mentioned get `tunread`."""
        store = self.store
        parent = await store.db[MESSAGES].find_one({"_id": message["tmid"]}, {"replies": 1, "u": 1})
        followers = set((parent or {}).get("replies") or ())
        if parent and (parent.get("u") or {}).get("_id"):
            followers.add(parent["u"]["_id"])
        users, group = mentions_of(message, sender or "")
        followers.update(users)
        followers.discard(sender)
        if not followers:
            return
        stamp = now()
        plain = sorted(followers - set(users))
        base = {"alert": True, "open": True, "_updatedAt": stamp}
        if plain:
            add = {"tunread": message["tmid"], **({"tunreadGroup": message["tmid"]} if group else {})}
            await store.subs.update_many({"rid": rid, "u._id": {"$in": plain}}, {"$addToSet": add, "$set": base})
        if users:
            await store.subs.update_many({"rid": rid, "u._id": {"$in": users}},
                                         {"$addToSet": {"tunread": message["tmid"], "tunreadUser": message["tmid"]},
                                          "$set": base})
        store.announce_room_subscriptions(rid, stamp)

    async def on_updated_message(self, message: Mapping[str, Any]) -> None:
        """An edit (or a deletion shown as `t:'rm'`) of the room's last message refreshes `lastMessage`."""
        store = self.store
        if not store.setting("Store_Last_Message", True):
            return
        await store.update_room_if({"_id": message["rid"], "lastMessage._id": message.get("_id")},
                                   {"$set": {"lastMessage": dict(message)}})
