"""A read-through cache of documents, kept current by the broker's change events.

Hot paths (every message sent checks the room, the sender and their access) read the same few documents
over and over. A service keeps them in a `DocCache`, loads a missing one from the database, and drops it
when a change event names it (`watch.rooms`, `watch.users`, `watch.subscriptions`: emitted after every
committed write by OrbitChat's services, and by StreamHub for writes made outside OrbitChat when
`STREAMHUB=changestream`). The time-to-live bounds how long a write that produced no event at all (another
program writing to the database without change streams) can go unseen.

A load racing with an invalidation of the same key is not stored: the event may describe a write newer
than what the load read. Cached values are shared: callers treat them as read-only.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

DEFAULT_TTL = 1.0       # seconds; Rocket.Chat's authorization keeps a user's roles as long
DEFAULT_SIZE = 10_000


class DocCache:
    def __init__(self, ttl: float = DEFAULT_TTL, size: int = DEFAULT_SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._drops: dict[Hashable, int] = {}   # invalidations per key, to spot a load that raced one
        self._epoch = 0                         # bumped when everything is dropped at once

    async def get(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value of `key`, or `await load()` (None results are cached too: "no such document")."""
        hit = self._items.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        mark = (self._epoch, self._drops.get(key, 0))
        value = await load()
        if mark == (self._epoch, self._drops.get(key, 0)):
            if len(self._items) >= self.size:
                self.clear()
            self._items[key] = (time.monotonic() + self.ttl, value)
        return value

    def forget(self, key: Hashable) -> None:
        self._items.pop(key, None)
        if len(self._drops) >= self.size:
            self.clear()
        self._drops[key] = self._drops.get(key, 0) + 1

    def clear(self) -> None:
        self._items.clear()
        self._drops.clear()
        self._epoch += 1

    def __len__(self) -> int:
        return len(self._items)
