"""Two OrbitChat servers sharing one database and a NATS broker: a user's connections on both count, each
server records and removes only its own sockets, and status changes reach watchers on the other server."""
import asyncio

import pytest

from core.context import random_id
from tests.plugins.presence.conftest import connections, create_user, login, presence_plugin, wait_status
from tests.plugins.presence.test_streams import user_status_event


@pytest.fixture
async def pair(start, nats_url, monkeypatch):
    monkeypatch.setenv("ORBITCHAT_NATS_PREFIX", "t" + random_id(8))
    first = await start(broker_url=nats_url)
    second = await start(broker_url=nats_url)
    return first, second


async def test_connections_on_two_servers(pair):
    a, b = pair
    assert presence_plugin(a).service.instance_id != presence_plugin(b).service.instance_id
    alice = await create_user(a, "alice")
    bob = await create_user(a, "bob")
    watcher = await login(a, bob)
    await watcher.sub("stream-notify-logged", "user-status", False)

    on_a = await login(a, alice)
    on_b = await login(b, alice)
    await watcher.expect(user_status_event(alice.id, 1))
    conns = {c["id"]: c["instanceId"] for c in await connections(a, alice)}
    assert conns == {on_a.session: presence_plugin(a).service.instance_id,
                     on_b.session: presence_plugin(b).service.instance_id}

    await on_a.close()
    async with asyncio.timeout(5):
        while len(await connections(a, alice)) != 1:
            await asyncio.sleep(0.05)
    await wait_status(a, alice, "online")

    # The socket on the other server closes: that server's presence updates the user, and the event
    # crosses the broker to the watcher connected here.
    await on_b.close()
    await watcher.expect(user_status_event(alice.id, 0))
    await wait_status(a, alice, "offline")
    assert await connections(a, alice) == []
