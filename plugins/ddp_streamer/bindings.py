"""Which rooms each locally listening user belongs to, for `<uid>/rooms-changed`.

A user is tracked while one of its connections in this process subscribes to `<uid>/rooms-changed`: its
room ids are read once at subscribe time and kept current from `watch.subscriptions`, so a room change
costs a dictionary lookup instead of a database query, and nothing at all when nobody listens.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class RoomBindings:
    def __init__(self, subscriptions: Any) -> None:
        self.subscriptions = subscriptions   # the rocketchat_subscription collection
        self._rooms_of: dict[str, set[str]] = {}
        self._users_of: dict[str, set[str]] = {}

    def tracked(self, uid: str) -> bool:
        return uid in self._rooms_of

    async def track(self, uid: str) -> None:
        if uid in self._rooms_of:
            return
        self._rooms_of[uid] = set()   # claim first: events arriving during the read are kept
        cursor = self.subscriptions.find({"u._id": uid}, {"rid": 1})
        rids = [doc["rid"] async for doc in cursor if isinstance(doc.get("rid"), str)]
        if uid in self._rooms_of:
            for rid in rids:
                self.bind(uid, rid)

    def untrack(self, uid: str) -> None:
        for rid in self._rooms_of.pop(uid, ()):
            users = self._users_of.get(rid)
            if users is not None:
                users.discard(uid)
                if not users:
                    del self._users_of[rid]

    def bind(self, uid: str, rid: str) -> bool:
        """Record a membership of a tracked user; True when it is new."""
        rooms = self._rooms_of.get(uid)
        if rooms is None or rid in rooms:
            return False
        rooms.add(rid)
        self._users_of.setdefault(rid, set()).add(uid)
        return True

    def unbind(self, uid: str, rid: str) -> None:
        rooms = self._rooms_of.get(uid)
        if rooms is not None:
            rooms.discard(rid)
        users = self._users_of.get(rid)
        if users is not None:
            users.discard(uid)
            if not users:
                del self._users_of[rid]

    def drop_room(self, rid: str) -> None:
        for uid in self._users_of.pop(rid, ()):
            self._rooms_of.get(uid, set()).discard(rid)

    def users_of(self, rid: str, still_listening: Callable[[str], bool]) -> list[str]:
        """Tracked members of a room; users nobody listens for any more are forgotten on the way."""
        out = []
        for uid in list(self._users_of.get(rid, ())):
            if still_listening(uid):
                out.append(uid)
            else:
                self.untrack(uid)
        return out
