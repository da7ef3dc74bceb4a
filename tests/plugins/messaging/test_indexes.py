"""`rocketchat_message` indexes: the pinned index holds pinned messages only, a database from before it has its
old all-messages index dropped at start, and the pinned listing reads through the new one."""
from __future__ import annotations

from pymongo import AsyncMongoClient

from plugins.messaging.models import PINNED_INDEX, RETIRED_INDEXES
from tests.plugins.messaging.conftest import PLUGINS, caller


async def test_old_pinned_index_is_replaced_by_a_partial_one(server_factory, mongo_url, db_name):
    client = AsyncMongoClient(mongo_url)
    try:
        older = client[db_name]["rocketchat_message"]
        await older.create_index([("rid", 1), ("pinned", 1), ("ts", -1)], name=RETIRED_INDEXES[0])
    finally:
        await client.close()

    srv = await server_factory(plugins=PLUGINS, env={"ORBITCHAT_BCRYPT_ROUNDS": "4"})
    messages = srv.kernel.db["rocketchat_message"]
    indexes = await messages.index_information()
    assert RETIRED_INDEXES[0] not in indexes
    assert indexes[PINNED_INDEX]["partialFilterExpression"] == {"pinned": True}

    alice = await caller(srv, "alice")
    rid = (await alice.ok("POST", "channels.create", name="pins"))["channel"]["_id"]
    sent = [(await alice.ok("POST", "chat.sendMessage", message={"rid": rid, "msg": f"m{i}"}))["message"]
            for i in range(3)]
    await alice.ok("POST", "chat.pinMessage", messageId=sent[1]["_id"])
    pinned = await alice.ok("GET", "chat.getPinnedMessages", roomId=rid)
    assert [m["_id"] for m in pinned["messages"]] == [sent[1]["_id"]]
    plan = str((await messages.find({"rid": rid, "pinned": True}).explain())["queryPlanner"]["winningPlan"])
    assert PINNED_INDEX in plan
