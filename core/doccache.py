"""A read-through cache of documents, kept current by the broker's change events.

Hot paths (every message sent checks the room, the sender and their access) read the same few documents
over and over. A service keeps them in a `DocCache`, loads a missing one from the database, and drops or
replaces it when a change event names it (`watch.rooms`, `watch.users`, `watch.subscriptions`: emitted after
every committed write by OrbitChat's services, and by StreamHub for writes made outside OrbitChat when
`STREAMHUB=changestream`). The time-to-live bounds how long a write that produced no event at all (another
program writing to the database without change streams) can go unseen.

Concurrent misses of one key share a single load. A load racing with an invalidation of the same key is not
stored: the event may describe a write newer than what the load read. Cached values are shared: callers
treat them as read-only.
"""
from __future__ import annotations

import asyncio
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
        self._loading: dict[Hashable, asyncio.Future] = {}

    async def get(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value of `key`, or `await load()` (None results are cached too: "no such document")."""
        hit = self._items.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        shared = self._loading.get(key)
        if shared is not None:
            try:
                return await asyncio.shield(shared)
            except asyncio.CancelledError:
                if not shared.cancelled():
                    raise          # this caller was cancelled, not the shared load
            except Exception:
                pass               # the shared load failed: try once more on our own
        return await self._load(key, load)

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        mark = (self._epoch, self._drops.get(key, 0))
        shared = asyncio.get_running_loop().create_future()
        self._loading[key] = shared
        try:
            value = await load()
        except asyncio.CancelledError:
            shared.cancel()
            raise
        except Exception as err:
            shared.set_exception(err)
            shared.exception()     # retrieved: waiters may be none
            raise
        finally:
            if self._loading.get(key) is shared:
                del self._loading[key]
        shared.set_result(value)
        if mark == (self._epoch, self._drops.get(key, 0)):
            self._store(key, value)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """A change event carried the new document: keep it (and discard loads still reading the old one)."""
        self._bump(key)
        self._store(key, value)

    def follow(self, key: Hashable, doc: Any) -> None:
        """A change event's view of `key`: the whole new document (kept), or None (dropped)."""
        if doc is None:
            self.forget(key)
        else:
            self.put(key, doc)

    def forget(self, key: Hashable) -> None:
        self._items.pop(key, None)
        self._bump(key)

    def clear(self) -> None:
        self._items.clear()
        self._drops.clear()
        self._epoch += 1

    def _bump(self, key: Hashable) -> None:
        if len(self._drops) >= self.size:
            self.clear()
        self._drops[key] = self._drops.get(key, 0) + 1
        self._loading.pop(key, None)   # later misses load afresh rather than share a stale read

    def _store(self, key: Hashable, value: Any) -> None:
        if len(self._items) >= self.size:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl, value)

    def __len__(self) -> int:
        return len(self._items)


def room_change(event: Any) -> tuple[str, dict[str, Any] | None] | None:
    """A `watch.rooms` event as (room id, the whole new room or None when removed or partial); None when
    it names no room."""
    room = event.get("room") if isinstance(event, dict) else None
    rid = room.get("_id") if isinstance(room, dict) else None
    if not isinstance(rid, str):
        return None
    whole = event.get("clientAction") != "removed" and "t" in room
    return rid, (room if whole else None)
