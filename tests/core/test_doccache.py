"""core.doccache: read-through, dropped by events, expiring, never storing a load that raced a drop."""
from __future__ import annotations

import asyncio

from core.doccache import DocCache


async def test_read_through_forget_and_expiry():
    cache = DocCache(ttl=0.2)
    loads: list[str] = []

    async def load(value):
        loads.append(value)
        return {"v": value}

    assert await cache.get("k", lambda: load("a")) == {"v": "a"}
    assert await cache.get("k", lambda: load("b")) == {"v": "a"}     # cached
    cache.forget("k")
    assert await cache.get("k", lambda: load("c")) == {"v": "c"}     # dropped by an event
    await asyncio.sleep(0.25)
    assert await cache.get("k", lambda: load("d")) == {"v": "d"}     # expired
    assert loads == ["a", "c", "d"]
    assert await cache.get("none", lambda: asyncio.sleep(0)) is None  # "no such document" is kept too
    assert await cache.get("none", lambda: load("e")) is None


async def test_a_load_racing_a_drop_is_not_kept():
    cache = DocCache(ttl=60)
    release = asyncio.Event()

    async def slow():
        await release.wait()
        return "stale"

    pending = asyncio.create_task(cache.get("k", slow))
    await asyncio.sleep(0)
    cache.forget("k")              # the document changed while it was being read
    release.set()
    assert await pending == "stale"
    assert await cache.get("k", lambda: asyncio.sleep(0, "fresh")) == "fresh"


async def test_size_bound():
    cache = DocCache(ttl=60, size=3)
    for i in range(10):
        await cache.get(i, lambda i=i: asyncio.sleep(0, i))
    assert len(cache) <= 3


async def test_concurrent_misses_share_one_load_and_put_replaces():
    cache = DocCache(ttl=60)
    loads = 0
    gate = asyncio.Event()

    async def load():
        nonlocal loads
        loads += 1
        await gate.wait()
        return "doc"

    waiters = [asyncio.create_task(cache.get("k", load)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == ["doc"] * 5 and loads == 1
    cache.put("k", "newer")            # an event carrying the whole new document
    assert await cache.get("k", load) == "newer" and loads == 1


async def test_a_failed_shared_load_is_retried_by_waiters():
    cache = DocCache(ttl=60)
    gate = asyncio.Event()
    calls = 0

    async def flaky():
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()
            raise RuntimeError("database hiccup")
        return "ok"

    first = asyncio.create_task(cache.get("k", flaky))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get("k", flaky))
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] == "ok"
