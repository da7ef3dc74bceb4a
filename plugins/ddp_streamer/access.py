"""Room read access for stream subscriptions and writes, asked of the authorization service and cached.

The cache is short-lived and dropped on the events that can change an answer (membership, room, role or
permission changes), so a typing storm or a busy `__my_messages__` does not become a storm of broker calls.
When the authorization service is unreachable the answer is "no": streams fail closed.
"""
from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("orbitchat.ddp_streamer")


class RoomAccess:
    def __init__(self, broker: Any, ttl: float = 10.0, max_entries: int = 50_000) -> None:
        self.broker = broker
        self.ttl = ttl
        self.max_entries = max_entries
        self._cache: dict[tuple[str, str], tuple[float, bool]] = {}

    async def can_access(self, user_id: str | None, rid: str) -> bool:
        if not user_id or not rid:
            return False
        key = (user_id, rid)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            allowed = await self.broker.call("authorization.can_access_room", user_id, rid) is True
        except Exception as exc:  # noqa: BLE001 - not running, timed out, failed: deny, do not remember
            log.debug("can_access_room(%s, %s) unavailable: %s", user_id, rid, exc)
            return False
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = (now + self.ttl, allowed)
        return allowed

    def forget(self, user_id: str | None = None, rid: str | None = None) -> None:
        """Drop cached answers for a user, a room, one pair, or (no argument) everything."""
        if user_id is None and rid is None:
            self._cache.clear()
        elif user_id is not None and rid is not None:
            self._cache.pop((user_id, rid), None)
        else:
            idx = 0 if user_id is not None else 1
            value = user_id if user_id is not None else rid
            for key in [k for k in self._cache if k[idx] == value]:
                del self._cache[key]
