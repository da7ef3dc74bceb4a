"""StreamHub over real change streams: outside writes reach the broker; one leader; failover loses nothing."""
from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime

from pymongo import AsyncMongoClient

from core.broker import Broker
from core.context import random_id
from core.transport_nats import NatsTransport
from tests.processes import ServeProcess


async def _until(predicate, timeout: float = 15.0, step: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError("condition not reached in time")


async def test_outside_write_becomes_broker_event(server_factory, mongo_url, db_name):
    srv = await server_factory(plugins=("streamhub",), env={"STREAMHUB_LOCK_TTL": "1"}, streamhub="changestream")
    seen: list = []
    await srv.kernel.broker.subscribe("watch.messages", seen.append)
    await srv.kernel.broker.subscribe("watch.users", seen.append)
    client = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[db_name]
    hub = await srv.kernel.broker.call("streamhub.status")
    assert hub["mode"] == "changestream"
    await _until(lambda: _leading(srv))
    await asyncio.sleep(0.3)   # the change stream is open once leading
    now = datetime.now(UTC)
    await db.rocketchat_message.insert_one({"_id": "m1", "rid": "GENERAL", "msg": "from a script", "ts": now})
    await db.users.insert_one({"_id": "u1", "username": "x", "services": {"password": {"bcrypt": "secret"}}})
    await db.users.update_one({"_id": "u1"}, {"$set": {"name": "X", "services.resume": {}}})
    await _until(lambda: len(seen) >= 3)
    msg = next(e for e in seen if "message" in e)
    assert msg["clientAction"] == "inserted" and msg["message"]["msg"] == "from a script"
    assert msg["message"]["ts"].replace(microsecond=0) == now.replace(microsecond=0)
    users = [e for e in seen if "id" in e]
    assert users[0]["clientAction"] == "inserted" and "services" not in users[0]["data"]
    assert users[1] == {"clientAction": "updated", "id": "u1", "diff": {"name": "X"}, "unset": {}}
    await client.close()


async def _leading(srv) -> bool:
    return (await srv.kernel.broker.call("streamhub.status"))["leading"]


async def test_direct_mode_stays_silent(server_factory, mongo_url, db_name):
    srv = await server_factory(plugins=("streamhub",))
    assert (await srv.kernel.broker.call("streamhub.status"))["mode"] == "direct"
    assert not (await _leading(srv))


async def test_failover_to_second_process_loses_no_event(tmp_path, mongo_url, db_name, nats_url):
    prefix = "sh" + random_id(6)
    env = {"MONGO_URL": mongo_url, "ORBITCHAT_DB": db_name, "BROKER_URL": nats_url, "STREAMHUB": "changestream",
           "STREAMHUB_LOCK_TTL": "1", "ORBITCHAT_NATS_PREFIX": prefix}
    listener = Broker(NatsTransport(nats_url, prefix))
    await listener.start()
    got: list[str] = []
    await listener.subscribe("watch.messages", lambda e: got.append(e["message"]["_id"]))
    client = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[db_name]
    first = ServeProcess(tmp_path / "a", env, services="streamhub")
    second = None
    try:
        await asyncio.to_thread(first.wait_ready)
        await _until(lambda: _holder(db), timeout=10)
        leader = await _holder(db)
        await asyncio.sleep(0.5)
        for i in range(5):
            await db.rocketchat_message.insert_one({"_id": f"a{i}", "rid": "r", "msg": str(i)})
        await _until(lambda: len(set(got)) >= 5)
        second = ServeProcess(tmp_path / "b", env, services="streamhub")
        await asyncio.to_thread(second.wait_ready)
        first.kill()                       # the leader dies without releasing its lock
        for i in range(20):                # writes keep coming during the takeover
            await db.rocketchat_message.insert_one({"_id": f"b{i}", "rid": "r", "msg": str(i)})
            await asyncio.sleep(0.1)
        await _until(lambda: {f"b{i}" for i in range(20)} <= set(got), timeout=20)
        assert await _holder(db) != leader
    finally:
        first.kill()
        if second is not None:
            second.stop()
        await listener.stop()
        await client.close()


async def _holder(db):
    doc = await db.orbitchat_locks.find_one({"_id": "streamhub"})
    return doc and doc["holder"]


async def test_changestream_mode_delivers_each_change_once(server_factory):
    """Services stay silent in changestream mode: a message sent through REST reaches a websocket
    subscriber exactly once (from StreamHub), and room counters still follow."""
    from tests.users import create_user
    plugins = ("settings", "accounts", "authorization", "rooms", "messaging", "ddp_streamer", "streamhub")
    srv = await server_factory(plugins=plugins, env={"STREAMHUB_LOCK_TTL": "1"}, streamhub="changestream")
    await _until(lambda: _leading(srv))
    await asyncio.sleep(0.3)
    alice = await create_user(srv, "alice")
    r = await srv.http.post("/api/v1/channels.create", json={"name": "hub"}, headers=alice.headers)
    rid = r.json()["channel"]["_id"]
    ddp = await srv.ddp()
    assert "result" in await ddp.login(alice.token)
    assert (await ddp.sub("stream-room-messages", rid, False))["msg"] == "ready"
    r = await srv.http.post("/api/v1/chat.sendMessage", json={"message": {"rid": rid, "msg": "once"}},
                            headers=alice.headers)
    mid = r.json()["message"]["_id"]

    def is_msg(m):
        return m.get("collection") == "stream-room-messages" and m["fields"]["args"][0].get("_id") == mid

    got = await ddp.expect(is_msg, timeout=10)
    assert got["fields"]["args"][0]["msg"] == "once"
    try:
        await ddp.expect(is_msg, timeout=1.5)
        raise AssertionError("the message was delivered twice")
    except TimeoutError:
        pass
    await _until(lambda: _msgs(srv, rid))


async def _msgs(srv, rid):
    room = await srv.kernel.db["rocketchat_room"].find_one({"_id": rid})
    return room.get("msgs") == 1
