"""Fan-out: one encoding per event, a slow reader dropped without holding up the room, small idle sockets."""
from __future__ import annotations

import asyncio
import json

import pytest

from core import jsonutil
from tests.core.rawws import RawWebsocket
from tests.plugins.ddp_streamer.conftest import FAST, Directory, event_of, logged_in

OPTS = {"useCollection": False, "args": []}


async def test_room_event_is_encoded_once_for_all_recipients(srv, directory, monkeypatch):
    people = [directory.add(f"u{i}") for i in range(5)]
    await srv.kernel.db["rocketchat_subscription"].insert_many(
        [{"_id": f"S{i}", "rid": "R1", "u": {"_id": p.id}} for i, p in enumerate(people)])
    clients = []
    for p in people:
        directory.allow(p, "R1")
        c = await logged_in(srv, p)
        await c.sub("stream-room-messages", "R1", OPTS)
        await c.sub("stream-notify-user", f"{p.id}/rooms-changed", False)
        clients.append(c)
    calls = []
    real = jsonutil.ejson_dumps
    monkeypatch.setattr(jsonutil, "ejson_dumps", lambda v: calls.append(1) or real(v))
    await srv.kernel.broker.emit("watch.messages", {"clientAction": "inserted",
                                                    "message": {"_id": "M1", "rid": "R1", "msg": "x" * 1000}})
    assert len(calls) == 1
    calls.clear()
    await srv.kernel.broker.emit("watch.rooms", {"clientAction": "updated", "room": {"_id": "R1", "t": "c"}})
    assert len(calls) <= 1 + 2 * len(people)   # the room once; only the short event names per user
    monkeypatch.undo()
    for c, p in zip(clients, people):
        assert (await c.expect(event_of("stream-room-messages", "R1")))["fields"]["args"][0]["_id"] == "M1"
        got = await c.expect(event_of("stream-notify-user", f"{p.id}/rooms-changed"))
        assert got["fields"]["args"] == ["updated", {"_id": "R1", "t": "c"}]


async def test_slow_consumer_is_dropped_while_the_room_keeps_receiving(server_factory):
    directory = Directory()
    srv = await server_factory(plugins=("settings", directory, "ddp_streamer"), env=dict(FAST), ddp_send_queue=16)
    alice, bob = directory.add("alice"), directory.add("bob")
    for p in (alice, bob):
        directory.allow(p, "R1")
    gone: list[dict] = []
    await srv.kernel.broker.subscribe("socket.disconnected", gone.append)
    fast = await logged_in(srv, alice)
    await fast.sub("stream-room-messages", "R1", OPTS)
    host, port = srv.base_url.removeprefix("http://").split(":")
    slow = await RawWebsocket.connect(host, int(port), rcvbuf=4096)   # never reads until the end
    for frame in ({"msg": "connect", "version": "1", "support": ["1"]},
                  {"msg": "method", "id": "1", "method": "login", "params": [{"resume": bob.token}]},
                  {"msg": "sub", "id": "s1", "name": "stream-room-messages", "params": ["R1", OPTS]}):
        await slow.send_text(json.dumps(frame))
    ddp = srv.kernel.ddp
    async with asyncio.timeout(5):
        while ddp.subscriber_count("stream-room-messages", "R1") < 2:
            await asyncio.sleep(0.01)
    slow_conn = next(c for c in ddp.connections.values() if c.user_id == bob.id)
    big = "y" * 65536
    sent = 0
    while slow_conn.closing is None:
        assert sent < 500, "the slow consumer was never dropped"
        await srv.kernel.broker.emit("watch.messages", {"clientAction": "inserted",
                                                        "message": {"_id": f"M{sent}", "rid": "R1", "msg": big}})
        got = await fast.expect(event_of("stream-room-messages", "R1"), timeout=5)
        assert got["fields"]["args"][0]["_id"] == f"M{sent}"
        sent += 1
    assert slow_conn.closing == 1013
    async with asyncio.timeout(5):   # its state is released (and presence told) within the close grace
        while not any(e["userId"] == bob.id for e in gone):
            await asyncio.sleep(0.01)
    assert ddp.subscriber_count("stream-room-messages", "R1") == 1
    await srv.kernel.broker.emit("watch.messages", {"clientAction": "inserted",
                                                    "message": {"_id": "after", "rid": "R1", "msg": "still here"}})
    assert (await fast.expect(event_of("stream-room-messages", "R1")))["fields"]["args"][0]["_id"] == "after"
    texts, code = await asyncio.wait_for(slow.read_until_close(), 10)
    slow.close()
    assert code == 1013 and texts < sent


async def test_websocket_compression_is_declined(srv):
    client = await srv.ddp()   # the websockets library offers permessage-deflate by default
    assert client.ws.response.headers.get("Sec-WebSocket-Extensions") is None


def ddp_tasks() -> dict[str, int]:
    counts: dict[str, int] = {}
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if code is not None and "core/ddp" in code.co_filename:
            counts[code.co_name] = counts.get(code.co_name, 0) + 1
    return counts


async def test_idle_sockets_cost_one_sender_task_each(srv, directory):
    clients = [await logged_in(srv, directory.add(f"u{i}")) for i in range(6)]
    for c in clients:
        await c.sub("stream-notify-logged", "user-status", False)
    await asyncio.sleep(0.1)
    counts = ddp_tasks()
    assert counts.get("_sender") == 6 and counts.get("_heartbeat") == 1
    assert counts.get("_worker", 0) == 0   # the method/sub worker exists only while there is work
    conns = list(srv.kernel.ddp.connections.values())
    assert all(c.inbound is None for c in conns)
    for c in clients:
        await c.close()
    async with asyncio.timeout(5):
        while srv.kernel.ddp.connections or ddp_tasks().get("_heartbeat"):
            await asyncio.sleep(0.02)
    assert ddp_tasks() == {}


@pytest.mark.parametrize("n", [3])
async def test_heartbeat_sweep_pings_each_silent_socket(server_factory, n):
    directory = Directory()
    srv = await server_factory(plugins=("settings", directory, "ddp_streamer"),
                               env={**FAST, "OVERWRITE_SETTING_DDP_Heartbeat_Interval": "1"})
    clients = [await srv.ddp() for _ in range(n)]
    for c in clients:   # the helper client answers pings, so they stay
        assert await c.expect(lambda m: m.get("msg") == "ping", timeout=3) == {"msg": "ping"}
    await asyncio.sleep(1.5)
    assert len(srv.kernel.ddp.connections) == n
