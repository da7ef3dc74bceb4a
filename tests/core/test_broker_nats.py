"""The NATS transport against a real nats-server: two brokers behave as one."""
import asyncio
from datetime import UTC, datetime

import pytest

from core.broker import Broker, ServiceNotFound
from core.context import random_id
from core.errors import ApiError
from core.transport_nats import NatsTransport


@pytest.fixture
async def pair(nats_url):
    prefix = "t" + random_id(8)
    a, b = Broker(NatsTransport(nats_url, prefix)), Broker(NatsTransport(nats_url, prefix))
    await a.start()
    await b.start()
    yield a, b
    await a.stop()
    await b.stop()


async def test_event_reaches_other_process_once_with_dates(pair):
    a, b = pair
    got_a, got_b = [], []
    await a.subscribe("watch.messages", got_a.append)
    await b.subscribe("watch.messages", got_b.append)
    await asyncio.sleep(0.1)  # subscriptions reach the server
    ts = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    await a.emit("watch.messages", {"message": {"_id": "m1", "ts": ts}})
    for _ in range(50):
        if got_b:
            break
        await asyncio.sleep(0.02)
    assert got_a == [{"message": {"_id": "m1", "ts": ts}}]  # local delivery, no echo duplicate
    assert got_b == [{"message": {"_id": "m1", "ts": ts}}]
    await asyncio.sleep(0.1)
    assert len(got_a) == 1


async def test_call_served_by_other_process(pair):
    a, b = pair

    async def add(x, y=0):
        return x + y

    async def fails():
        raise ApiError("Room not found", "error-room-not-found")

    await b.register("math.add", add)
    await b.register("rooms.fail", fails)
    await asyncio.sleep(0.1)
    assert await a.call("math.add", 2, y=3) == 5
    with pytest.raises(ApiError) as err:
        await a.call("rooms.fail")
    assert err.value.error_type == "error-room-not-found"
    with pytest.raises(ServiceNotFound):
        await a.call("nobody.serves.this")


async def test_group_listeners_share_events_out(pair, nats_url):
    """Listeners in a group: each event reaches exactly one process (the publisher's included); plain
    listeners still get every event in every process."""
    a, b = pair
    third = Broker(NatsTransport(nats_url, a.transport.prefix))   # a process with no group listener
    await third.start()
    counted: dict[str, list] = {"a": [], "b": []}
    everyone: list = []
    await a.subscribe("watch.messages", counted["a"].append, group="rooms.counters")
    await b.subscribe("watch.messages", counted["b"].append, group="rooms.counters")
    await b.subscribe("watch.messages", everyone.append)
    await asyncio.sleep(0.1)
    for i in range(40):
        await (a if i % 2 else third).emit("watch.messages", {"n": i})
    for _ in range(100):
        if len(counted["a"]) + len(counted["b"]) >= 40 and len(everyone) >= 40:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    got = sorted(e["n"] for e in counted["a"] + counted["b"])
    assert got == list(range(40))                       # each event counted once
    assert counted["a"] and counted["b"]                # shared out between the two
    assert sorted(e["n"] for e in everyone) == list(range(40))
    await third.stop()


async def test_group_listeners_in_one_process():
    broker = Broker()
    got: list = []
    plain: list = []
    await broker.subscribe("evt", got.append, group="g")
    await broker.subscribe("evt", plain.append)
    await broker.emit("evt", {"x": 1})
    assert got == [{"x": 1}] and plain == [{"x": 1}]
