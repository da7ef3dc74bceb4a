"""Refresh, reaper and start-up clean-up of `usersSessions` (intervals shortened through settings)."""
import asyncio
from datetime import UTC, datetime, timedelta

from tests.plugins.presence.conftest import (
    FAST_PRESENCE,
    connections,
    create_user,
    login,
    presence_plugin,
    user_doc,
    wait_status,
)


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


async def add_foreign_connection(srv, uid: str, conn_id: str, instance_id: str, age_s: float) -> None:
    """A connection recorded by another (maybe dead) process."""
    await srv.kernel.db["usersSessions"].update_one({"_id": uid}, {"$push": {"connections": {
        "id": conn_id, "instanceId": instance_id, "status": "online", "_createdAt": ago(age_s),
        "_updatedAt": ago(age_s)}}}, upsert=True)


async def crash_presence(srv) -> None:
    """What dying does to presence: timers stop, the instance slot is freed, no clean-up runs."""
    plugin = presence_plugin(srv)
    for task in plugin.maintenance._tasks:
        task.cancel()
    plugin._instance.release()
    srv.kernel.pm.unregister(name="presence")


async def wait_connections(srv, user, predicate, timeout: float = 8.0) -> list[dict]:
    async with asyncio.timeout(timeout):
        while True:
            conns = await connections(srv, user)
            if predicate(conns):
                return conns
            await asyncio.sleep(0.1)


async def test_reaper_removes_a_connection_not_refreshed(start):
    srv = await start(env=FAST_PRESENCE)
    alice = await create_user(srv, "alice")
    client = await login(srv, alice)
    await wait_status(srv, alice, "online")
    # A process that died ten minutes ago left a connection behind.
    await add_foreign_connection(srv, alice.id, "dead-conn", "dead-instance", age_s=600)
    conns = await wait_connections(srv, alice, lambda cs: all(c["id"] != "dead-conn" for c in cs))
    # The live socket is refreshed by its process and survives the reaper.
    assert [c["id"] for c in conns] == [client.session]
    await asyncio.sleep(4)   # longer than the stale timeout: refreshes keep it alive
    [conn] = await connections(srv, alice)
    assert conn["_updatedAt"] > ago(2.5)
    assert (await user_doc(srv, alice))["status"] == "online"


async def test_a_dead_process_users_go_offline(start):
    srv = await start(env=FAST_PRESENCE)
    bob = await create_user(srv, "bob")
    await add_foreign_connection(srv, bob.id, "c1", "dead-instance", age_s=1)
    await presence_plugin(srv).service.update_user_presence(bob.id)
    assert (await user_doc(srv, bob))["status"] == "online"   # fresh for now
    await wait_status(srv, bob, "offline", timeout=8)
    assert await connections(srv, bob) == []


async def test_stale_connections_do_not_count_even_before_reaping(srv):
    carol = await create_user(srv, "carol")
    await add_foreign_connection(srv, carol.id, "c1", "other", age_s=301)
    await presence_plugin(srv).service.update_user_presence(carol.id)
    doc = await user_doc(srv, carol)
    assert (doc["status"], doc["statusConnection"]) == ("offline", "offline")


async def test_start_up_removes_connections_this_instance_left(start):
    first = await start()
    dave = await create_user(first, "dave")
    instance_id = presence_plugin(first).service.instance_id
    # Simulate a crash: the run's connection stays recorded and dave still shows online.
    await add_foreign_connection(first, dave.id, "left-over", instance_id, age_s=5)
    await add_foreign_connection(first, dave.id, "elsewhere", "other-instance", age_s=400)
    await presence_plugin(first).service.update_user_presence(dave.id)
    await crash_presence(first)
    await first.stop()
    second = await start()
    assert presence_plugin(second).service.instance_id == instance_id   # same data dir, same slot
    assert [c["id"] for c in await connections(second, dave)] == ["elsewhere"]   # the reaper's business
    await wait_status(second, dave, "offline")


async def test_graceful_stop_removes_this_instances_connections(start):
    first = await start()
    erin = await create_user(first, "erin")
    await login(first, erin)
    await wait_status(first, erin, "online")
    second = await start()   # a second process on the same data dir and database
    assert presence_plugin(second).service.instance_id != presence_plugin(first).service.instance_id
    await first.stop()
    await wait_status(second, erin, "offline")
    assert await connections(second, erin) == []


async def test_refresh_repairs_drift(start):
    srv = await start(env=FAST_PRESENCE)
    frank = await create_user(srv, "frank")
    client = await login(srv, frank)
    await wait_status(srv, frank, "online")
    svc = presence_plugin(srv).service
    # The record of a live socket vanished (reaped while the process stalled): it comes back.
    await srv.kernel.db["usersSessions"].update_one({"_id": frank.id}, {"$set": {"connections": []}})
    await wait_connections(srv, frank, lambda cs: [c["id"] for c in cs] == [client.session])
    # A record of this instance for a socket it no longer has (a lost disconnect): it goes.
    await add_foreign_connection(srv, frank.id, "ghost", svc.instance_id, age_s=0)
    await wait_connections(srv, frank, lambda cs: [c["id"] for c in cs] == [client.session])


async def test_refresh_reaches_every_session_a_few_at_a_time(start):
    """More sessions than one refresh write takes: every one of them is refreshed all the same."""
    from plugins.presence.maintenance import REFRESH_CHUNK

    srv = await start(env=FAST_PRESENCE)
    svc = presence_plugin(srv).service
    count = 2 * REFRESH_CHUNK + 7
    for i in range(count):   # live sockets of this process (as its connection table knows them)
        await add_foreign_connection(srv, f"user{i}", f"conn{i}", svc.instance_id, age_s=0)
        svc.local[f"conn{i}"] = f"user{i}"
    marked = datetime.now(UTC)
    sessions = srv.kernel.db["usersSessions"]
    async with asyncio.timeout(10):
        while await sessions.count_documents({"connections._updatedAt": {"$gt": marked}}) < count:
            await asyncio.sleep(0.2)
