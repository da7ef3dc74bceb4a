"""`stream-user-presence`: each connection watches a set of user ids and gets their status changes.

Subscribe with `["", {"added": [uid, ...], "removed": [uid, ...]}]`. The first subscription of a connection is
the main one (`ready`); later ones only change the watched set and are stopped at once (`nosub`), as
Rocket.Chat's StreamPresence does. Events are sent with `id` = the user id, not the usual `"id"`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import jsonutil
from core.ddp.wire import SharedFrame
from core.errors import meteor_error

if TYPE_CHECKING:
    from core.ddp import DdpConnection

COLLECTION = "stream-user-presence"
EXTRA_KEY = "user_presence"
MAX_UID = 64


class _Watch:
    __slots__ = ("sid", "uids")

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.uids: set[str] = set()


def _uid_list(value: Any, limit: int) -> list[str] | None:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > limit:
        return None
    if not all(isinstance(u, str) and 0 < len(u) <= MAX_UID for u in value):
        return None
    return value


class PresenceWatch:
    def __init__(self, max_watched: int = 5000) -> None:
        self.max_watched = max_watched
        self._watchers: dict[str, set[DdpConnection]] = {}

    def watched_by(self, uid: str) -> int:
        return len(self._watchers.get(uid, ()))

    async def subscribe(self, conn: DdpConnection, sid: str, params: list) -> bool:
        options = params[1] if len(params) > 1 else None
        if not isinstance(options, dict):
            options = {}
        added = _uid_list(options.get("added"), self.max_watched)
        removed = _uid_list(options.get("removed"), self.max_watched)
        if added is None or removed is None:
            conn.send({"msg": "nosub", "id": sid, "error": meteor_error("invalid-params", "Invalid params")})
            return False
        watch = conn.extra.get(EXTRA_KEY)
        main = watch is None or watch.sid not in conn.subs
        if main:
            if watch is None:
                conn.on_close(self.drop)
            else:
                self.drop(conn)
            watch = conn.extra[EXTRA_KEY] = _Watch(sid)
        for uid in added:
            if len(watch.uids) >= self.max_watched:
                break
            watch.uids.add(uid)
            self._watchers.setdefault(uid, set()).add(conn)
        for uid in removed:
            watch.uids.discard(uid)
            self._unwatch(uid, conn)
        if main:
            return True
        conn.send({"msg": "nosub", "id": sid})
        return False

    def drop(self, conn: DdpConnection) -> None:
        """Forget everything a connection watched (its socket closed or its main subscription stopped)."""
        watch = conn.extra.get(EXTRA_KEY)
        if watch is None:
            return
        for uid in watch.uids:
            self._unwatch(uid, conn)
        watch.uids = set()

    def _unwatch(self, uid: str, conn: DdpConnection) -> None:
        conns = self._watchers.get(uid)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._watchers[uid]

    def publish(self, uid: str, username: str, status: int, status_text: str | None) -> int:
        conns = self._watchers.get(uid)
        if not conns:
            return 0
        # Rocket.Chat wraps the triple once more: real clients read `const [[username, status, text]] = args`.
        frame = SharedFrame(jsonutil.ejson_dumps({
            "msg": "changed", "collection": COLLECTION, "id": uid,
            "fields": {"uid": uid, "args": [[username, status, status_text or ""]], "eventName": uid},
        }).decode())
        sent = 0
        for conn in list(conns):
            watch = conn.extra.get(EXTRA_KEY)
            if watch is None or watch.sid not in conn.subs:   # main subscription was stopped by `unsub`
                self.drop(conn)
                continue
            conn.send_raw(frame)
            sent += 1
        return sent
