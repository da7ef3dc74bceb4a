"""Two OrbitChat processes' worth of apps sharing one database and a NATS broker: every process receives each
`watch.messages` event, yet each message is counted once."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from core.context import random_id
from tests.plugins.rooms.conftest import PLUGINS, Caller, settle
from tests.users import create_user


async def test_a_message_is_counted_once_across_processes(server_factory, nats_url):
    env = {"ORBITCHAT_BCRYPT_ROUNDS": "4", "OVERWRITE_SETTING_Unread_Count": "all_messages"}
    one = await server_factory(plugins=PLUGINS, env=env, broker_url=nats_url)
    two = await server_factory(plugins=PLUGINS, env=env, broker_url=nats_url)
    alice = Caller(one, await create_user(one, "alice"))
    bob = Caller(two, await create_user(one, "bob"))
    room = (await alice.ok("POST", "channels.create", name="shared", members=["bob"]))["channel"]
    await asyncio.sleep(0.2)   # both processes' subscriptions reach the NATS server
    for i in range(3):
        msg = {"_id": random_id(), "rid": room["_id"], "msg": f"m{i}", "ts": datetime.now(UTC),
               "u": {"_id": alice.id, "username": "alice"}}
        await one.kernel.broker.emit("watch.messages", {"clientAction": "inserted", "message": msg})
    for _ in range(100):
        await settle(one)
        await settle(two)
        info = (await bob.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
        if info["msgs"] >= 3:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    await settle(one)
    await settle(two)
    info = (await bob.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    sub = (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert info["msgs"] == 3 and sub["unread"] == 3
