"""With the real services: accounts logins, authorization room access, rooms and messaging events, presence."""
from __future__ import annotations

import asyncio

import pytest

from tests.plugins.ddp_streamer.conftest import FAST, event_of
from tests.users import create_user

OPTS = {"useCollection": False, "args": []}
CORE = ("settings", "accounts", "authorization", "ddp_streamer")


async def login(srv, user):
    client = await srv.ddp()
    reply = await client.call("login", {"resume": user.token})
    assert reply.get("result", {}).get("id") == user.id, reply
    return client


async def test_typing_relay_in_a_private_room(server_factory):
    srv = await server_factory(plugins=CORE, env=dict(FAST))
    alice, bob, carol = [await create_user(srv, n) for n in ("alice", "bob", "carol")]
    db = srv.kernel.db
    await db["rocketchat_room"].insert_one({"_id": "P1", "t": "p", "name": "secret", "usersCount": 2})
    await db["rocketchat_subscription"].insert_many([
        {"_id": f"s-{u.id}", "rid": "P1", "t": "p", "name": "secret", "u": {"_id": u.id, "username": u.username}}
        for u in (alice, bob)])
    a, b, c = await login(srv, alice), await login(srv, bob), await login(srv, carol)
    for client in (a, b):
        assert (await client.sub("stream-notify-room", "P1/user-activity", OPTS))["msg"] == "ready"
        assert (await client.sub("stream-notify-room", "P1/typing", OPTS))["msg"] == "ready"
    refused = await c.sub("stream-notify-room", "P1/user-activity", OPTS)
    assert refused["msg"] == "nosub" and refused["error"]["error"] == "not-allowed"
    assert (await c.sub("stream-room-messages", "P1", OPTS))["msg"] == "nosub"

    reply = await a.call("stream-notify-room", "P1/user-activity", "alice", ["user-typing"], {})
    assert "error" not in reply
    assert (await b.expect(event_of("stream-notify-room", "P1/user-activity")))["fields"]["args"] == \
        ["alice", ["user-typing"], {}]
    assert (await b.expect(event_of("stream-notify-room", "P1/typing")))["fields"]["args"] == ["alice", True]
    with pytest.raises(TimeoutError):
        await a.expect(event_of("stream-notify-room"), timeout=0.3)
    # carol cannot type into a room she is not in
    assert (await c.call("stream-notify-room", "P1/typing", "carol", True))["error"]["error"] == "not-allowed"


async def test_messages_sent_through_the_stack_reach_room_and_bot_streams(server_factory):
    srv = await server_factory(plugins=(*CORE, "rooms", "messaging"), env=dict(FAST))
    alice, bot = await create_user(srv, "alice"), await create_user(srv, "robo", roles=("user", "bot"))
    created = await srv.http.post("/api/v1/groups.create", headers=alice.headers,
                                  json={"name": "team", "members": ["robo"]})
    assert created.status_code == 200, created.text
    rid = created.json()["group"]["_id"]
    a, r = await login(srv, alice), await login(srv, bot)
    assert (await a.sub("stream-room-messages", rid, OPTS))["msg"] == "ready"
    assert (await r.sub("stream-room-messages", "__my_messages__", True))["msg"] == "ready"
    assert (await r.sub("stream-notify-user", f"{bot.id}/subscriptions-changed", False))["msg"] == "ready"

    sent = await srv.http.post("/api/v1/chat.sendMessage", headers=alice.headers,
                               json={"message": {"rid": rid, "msg": "hello robo"}})
    assert sent.status_code == 200, sent.text
    mid = sent.json()["message"]["_id"]
    got = await a.expect(event_of("stream-room-messages", rid))
    assert got["fields"]["args"][0]["_id"] == mid and got["fields"]["args"][0]["msg"] == "hello robo"
    mine = await r.expect(lambda m: event_of("stream-room-messages", "__my_messages__")(m)
                          and m["fields"]["args"][0].get("_id") == mid)
    assert mine["fields"]["args"][1] == {"roomParticipant": True, "roomType": "p", "roomName": "team"}
    # an edit comes the same way; the bot's subscription changed too (unread counter)
    assert (await a.call("updateMessage", {"_id": mid, "rid": rid, "msg": "hello again"})).get("error") is None
    got = await a.expect(lambda m: event_of("stream-room-messages", rid)(m)
                         and m["fields"]["args"][0]["msg"] == "hello again")
    assert got["fields"]["args"][0]["_id"] == mid
    await r.expect(event_of("stream-notify-user", f"{bot.id}/subscriptions-changed"), timeout=5)


async def test_presence_changes_are_streamed(server_factory):
    srv = await server_factory(plugins=(*CORE, "presence"), env=dict(FAST))
    alice, bob = await create_user(srv, "alice"), await create_user(srv, "bob")
    a = await login(srv, alice)
    await a.sub("stream-notify-logged", "user-status", False)
    assert (await a.sub("stream-user-presence", "", {"added": [bob.id]}))["msg"] == "ready"
    b = await login(srv, bob)
    online = await a.expect(lambda m: event_of("stream-notify-logged", "user-status")(m)
                            and m["fields"]["args"][0][0] == bob.id)
    assert online["fields"]["args"][0][1:3] == ["bob", 1]
    watched = await a.expect(lambda m: m.get("collection") == "stream-user-presence" and m.get("id") == bob.id)
    assert watched["fields"]["args"] == [["bob", 1, ""]]
    await b.close()
    offline = await a.expect(lambda m: event_of("stream-notify-logged", "user-status")(m)
                             and m["fields"]["args"][0][0] == bob.id and m["fields"]["args"][0][2] == 0,
                             timeout=10)
    assert offline["fields"]["args"][0][1] == "bob"
    await asyncio.sleep(0)
