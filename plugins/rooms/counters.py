"""Room and subscription counters kept current from the messaging service's `watch.messages` events
(Rocket.Chat's `notifyUsersOnMessage` / `updateUsersSubscriptions` / thread `reply`).

Counting runs in the background, one worker per room, so a send never waits for it. Messages that arrive
while a room's worker is busy are counted together: a batch costs one room update, one bulk update of the
members and a bulk update per distinct correction (senders, mentioned users), whatever the room size and
however many messages it holds. No per-member loop ever touches the database.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from plugins.rooms.constants import MESSAGES
from plugins.rooms.store import RoomStore, now

log = logging.getLogger("orbitchat.rooms")

GROUP_MENTIONS = ("all", "here")
# A busy room's counters are written at most this often (seconds): the messages in between are counted
# together, so a room's counter writes cost the database a bounded share whatever the message rate.
BATCH_INTERVAL = 0.25
KNOWN_KINDS = 10_000     # room types remembered (a room's type never changes)
CHUNK = 10               # members alerted per write (each write holds the database ~20 ms)


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


def sender_of(message: Mapping[str, Any]) -> str:
    return str((message.get("u") or {}).get("_id") or "")


class Batch:
    """What a run of new messages in one room changes, as room-wide and per-user increments."""

    def __init__(self, policy: str) -> None:
        self.policy = policy
        self.count_user = policy in ("all_messages", "user_mentions_only", "user_and_group_mentions_only")
        self.count_group = policy in ("all_messages", "group_mentions_only", "user_and_group_mentions_only")
        self.base: Counter[str] = Counter()                       # every member
        self.per_user: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.senders: Counter[str] = Counter()

    def add(self, message: Mapping[str, Any]) -> None:
        sender = sender_of(message)
        users, group = mentions_of(message, sender)
        self.senders[sender] += 1
        own = self.per_user[sender]
        if self.policy == "all_messages":
            self.base["unread"] += 1
            own["unread"] -= 1
        for uid in users:
            self.per_user[uid]["userMentions"] += 1
            if self.count_user and self.policy != "all_messages":
                self.per_user[uid]["unread"] += 1
        if group:
            # Rocket.Chat gives a user mention priority over a group mention in the same message.
            self.base["groupMentions"] += 1
            own["groupMentions"] -= 1
            for uid in users:
                self.per_user[uid]["groupMentions"] -= 1
            if self.count_group and self.policy != "all_messages":
                self.base["unread"] += 1
                own["unread"] -= 1

    async def write(self, subs: Any, rid: str, stamp: datetime) -> set[str] | None:
        """Apply the batch to the room's subscriptions; returns the members whose subscription changed
        (None: every member).

        Without a room-wide increment only members not yet alerted (or with the room closed) change, as
        Rocket.Chat's `setAlertForRoomIdExcludingUserId` / `setOpenForRoomIdExcludingUserId`: in a busy
        room most messages touch no subscription at all. Every query is an equality or `$in` on an indexed
        prefix ((rid, alert), (rid, u._id)), never `$ne`/`$or`, which would make a database scan the whole
        collection."""
        flags = {"alert": True, "open": True, "_updatedAt": stamp}
        lone = next(iter(self.senders)) if len(self.senders) == 1 else None
        touched: set[str] | None
        before = None   # a lone sender's own flags, put back after a room-wide write reached it too
        if self.base:
            # Everyone, the sender included: the sender's own correction (below) cancels its increments.
            if lone:
                before = await subs.find_one({"rid": rid, "u._id": lone}, {"alert": 1, "open": 1})
            await subs.update_many({"rid": rid}, {"$set": flags, "$inc": dict(self.base)})
            touched = None
        else:
            self.per_user.pop(lone, None)   # nothing room-wide reached the sender: nothing to correct
            touched = await self._raise_flags(subs, rid, lone, flags)
        groups: defaultdict[tuple, list[str]] = defaultdict(list)
        for uid, delta in self.per_user.items():
            key = tuple(sorted((k, v) for k, v in delta.items() if v))
            if key:
                groups[key].append(uid)
        for key, uids in groups.items():
            update: dict[str, Any] = {"$inc": dict(key)}
            if any(v > 0 for _, v in key):
                update["$set"] = flags
            elif before is not None and uids == [lone]:
                update["$set"] = {"alert": bool(before.get("alert")), "open": bool(before.get("open")),
                                  "_updatedAt": stamp}
            await subs.update_many({"rid": rid, "u._id": {"$in": uids}}, update)
            if touched is not None:
                touched.update(uids)
        return touched

    @staticmethod
    async def _raise_flags(subs: Any, rid: str, lone: str | None, flags: dict[str, Any]) -> set[str]:
        """Alert (and open) every member but a lone sender who is not alerted yet; returns who changed.
        Closing a room (`hide`, archiving) clears its alert too, so a member with the room closed is
        never alerted: the (rid, alert) index finds every member this message changes."""
        cursor = subs.find({"rid": rid, "alert": {"$in": [False, None]}}, {"u._id": 1})
        waiting = {d["u"]["_id"] async for d in cursor if isinstance(d.get("u"), dict)}
        changed = sorted(waiting - {lone})
        for i in range(0, len(changed), CHUNK):   # small writes: none holds the database for long
            await subs.update_many({"rid": rid, "u._id": {"$in": changed[i:i + CHUNK]}}, {"$set": flags})
        return set(changed)


class Counters:
    def __init__(self, store: RoomStore) -> None:
        self.store = store
        self._queues: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._kinds: dict[str, str] = {}

    async def on_message_event(self, event: Mapping[str, Any]) -> None:
        """`watch.messages` listener: queue the message for its room's worker and return at once."""
        message = (event or {}).get("message")
        action = (event or {}).get("clientAction")
        if not isinstance(message, Mapping) or not isinstance(message.get("rid"), str):
            return
        if action not in ("inserted", "updated"):
            return
        rid = message["rid"]
        queue = self._queues.get(rid)
        if queue is not None:
            queue.append((action, dict(message)))
            return
        self._queues[rid] = [(action, dict(message))]
        self.store.spawn(self._worker(rid))

    async def _worker(self, rid: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queues.get(rid):
                started = loop.time()
                items, self._queues[rid] = self._queues[rid], []
                try:
                    await self.apply(rid, items)
                except Exception:
                    log.exception("updating counters of room %s failed", rid)
                if self._queues.get(rid):   # more came meanwhile: let them gather for one write
                    await asyncio.sleep(max(0.0, started + BATCH_INTERVAL - loop.time()))
        finally:
            self._queues.pop(rid, None)

    async def room_kind(self, rid: str) -> str | None:
        kind = self._kinds.get(rid)
        if kind is None:
            room = await self.store.rooms.find_one({"_id": rid}, {"t": 1})
            if room is None:
                return None
            if len(self._kinds) >= KNOWN_KINDS:
                self._kinds.clear()
            kind = self._kinds[rid] = str(room.get("t"))
        return kind

    async def apply(self, rid: str, items: list[tuple[str, dict[str, Any]]]) -> None:
        kind = await self.room_kind(rid)
        if kind is None:
            return
        new = [m for action, m in items if action == "inserted"]
        if new:
            await self.on_new_messages(rid, kind, new)
        for action, message in items:
            if action == "updated":
                await self.on_updated_message(message)

    async def on_new_messages(self, rid: str, kind: str, messages: list[dict[str, Any]]) -> None:
        regular = [m for m in messages if not m.get("t") and not m.get("_hidden")]
        shown = [m for m in regular if not m.get("tmid") or m.get("tshow")]
        await self._update_room(rid, len(messages), shown)
        for message in regular:
            if message.get("tmid"):
                await self._thread_reply(rid, message)
        if shown:
            await self._member_counters(rid, kind, shown)

    async def _update_room(self, rid: str, count: int, shown: list[dict[str, Any]]) -> None:
        """`msgs` += count (system and thread-only messages count too, as in Rocket.Chat); `lm` and
        `lastMessage` from the newest shown message unless a newer one already set them."""
        store = self.store
        latest = max((m for m in shown if isinstance(m.get("ts"), datetime)), key=lambda m: m["ts"], default=None)
        if latest is not None:
            fields: dict[str, Any] = {"lm": latest["ts"]}
            if store.setting("Store_Last_Message", True):
                fields["lastMessage"] = latest
            change = {"$inc": {"msgs": count}, "$set": fields}
            # "No `lm` yet, or an older one" as two conditions on `_id`: an `$or` scans every room on the
            # embedded database. A first `lm` written by another process between the two is older or newer:
            # the second round takes the first case, and the second leaves only `msgs` to count.
            older, unset = {"_id": rid, "lm": {"$lte": latest["ts"]}}, {"_id": rid, "lm": None}
            for newer in (older, unset, older):
                if await store.update_room_if(newer, change):
                    return
        await store.update_room(rid, {"$inc": {"msgs": count}})

    def _unread_policy(self, kind: str) -> str:
        if kind == "d":
            value = self.store.setting("Unread_Count_DM", "all_messages")
            return "all_messages" if value == "all_messages" else "user_and_group_mentions_only"
        return str(self.store.setting("Unread_Count", "all_messages"))

    async def _member_counters(self, rid: str, kind: str, messages: list[dict[str, Any]]) -> None:
        batch = Batch(self._unread_policy(kind))
        for message in messages:
            batch.add(message)
        touched = await batch.write(self.store.subs, rid, now())
        if touched is None or touched:
            self.store.announce_room_subscriptions(rid, touched)

    async def _thread_reply(self, rid: str, message: Mapping[str, Any]) -> None:
        """Followers of the thread (its `replies` plus the parent's author) and the mentioned get `tunread`."""
        store = self.store
        sender = sender_of(message)
        tmid = message["tmid"]
        parent = await store.db[MESSAGES].find_one({"_id": tmid}, {"replies": 1, "u": 1})
        followers = set((parent or {}).get("replies") or ())
        if parent and (parent.get("u") or {}).get("_id"):
            followers.add(parent["u"]["_id"])
        users, group = mentions_of(message, sender)
        followers.update(users)
        followers.discard(sender)
        if not followers:
            return
        stamp = now()
        flags = {"alert": True, "open": True, "_updatedAt": stamp}
        plain = sorted(followers - set(users))
        if plain:
            add = {"tunread": tmid, **({"tunreadGroup": tmid} if group else {})}
            await store.subs.update_many({"rid": rid, "u._id": {"$in": plain}}, {"$addToSet": add, "$set": flags})
        if users:
            await store.subs.update_many({"rid": rid, "u._id": {"$in": users}},
                                         {"$addToSet": {"tunread": tmid, "tunreadUser": tmid}, "$set": flags})
        store.announce_room_subscriptions(rid, followers)

    async def on_updated_message(self, message: Mapping[str, Any]) -> None:
        """An edit (or a deletion shown as `t:'rm'`) of the room's last message refreshes `lastMessage`."""
        store = self.store
        if not store.setting("Store_Last_Message", True):
            return
        await store.update_room_if({"_id": message["rid"], "lastMessage._id": message.get("_id")},
                                   {"$set": {"lastMessage": dict(message)}})
