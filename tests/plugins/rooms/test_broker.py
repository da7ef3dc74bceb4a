"""Broker actions other services call, the change events rooms announces, and the whole path with the real
messaging service: a posted message moves the room and subscription counters."""
from __future__ import annotations

import pytest

from core.errors import MeteorError
from tests.plugins.rooms.conftest import PLUGINS, Caller, EventLog, settle
from tests.users import create_user


async def test_broker_actions(srv, alice, bob):
    broker = srv.kernel.broker
    room = await broker.call("rooms.create", alice.id, "c", "from-broker", ["bob"])
    assert room["t"] == "c" and room["usersCount"] == 2 and room["u"]["username"] == "alice"
    assert (await broker.call("rooms.get", room["_id"]))["name"] == "from-broker"
    assert await broker.call("rooms.get", "missing") is None
    sub = await broker.call("rooms.get_subscription", room["_id"], bob.id)
    assert sub["u"]["_id"] == bob.id and sub["rid"] == room["_id"]
    assert await broker.call("rooms.get_subscription", room["_id"], "nobody") is None
    carol = await create_user(srv, "carol")
    assert await broker.call("rooms.add_user", room["_id"], carol.id, alice.id) is True
    assert await broker.call("rooms.add_user", room["_id"], carol.id) is False
    with pytest.raises(MeteorError) as info:
        await broker.call("rooms.add_user", "missing", carol.id)
    assert info.value.code == "error-invalid-room"
    dm = await broker.call("rooms.create", alice.id, "d", None, ["bob"])
    assert dm["rid"] == "".join(sorted([alice.id, bob.id])) and dm["t"] == "d"
    guest = await create_user(srv, "visitor", roles=("guest",))
    with pytest.raises(MeteorError):
        await broker.call("rooms.create", guest.id, "p", "guest-room", [])


async def test_broker_actions_for_teams(srv, alice, bob, events):
    broker = srv.kernel.broker
    room = await broker.call("rooms.create", alice.id, "p", "team-main", ["bob"])
    rid = room["_id"]
    changed = await broker.call("rooms.set_team", [rid, "missing"], "T1", main=True)
    assert [(r["_id"], r["teamId"], r["teamMain"]) for r in changed] == [(rid, "T1", True)]
    sub = await broker.call("rooms.get_subscription", rid, bob.id)
    assert (sub["teamId"], sub["teamMain"]) == ("T1", True)
    assert (await broker.call("rooms.set_team_default", rid, True))["teamDefault"] is True
    await broker.call("rooms.set_team", [rid], None)
    stored = await broker.call("rooms.get", rid)
    assert not {"teamId", "teamMain"} & set(stored) and "teamId" not in await broker.call(
        "rooms.get_subscription", rid, bob.id)
    result = await broker.call("rooms.save_settings", alice.id, rid, {"roomTopic": "from teams"})
    assert result == {"result": True, "rid": rid} and (await broker.call("rooms.get", rid))["topic"] == "from teams"
    with pytest.raises(MeteorError):   # the actor's room permissions still apply
        await broker.call("rooms.save_settings", bob.id, rid, {"roomTopic": "not mine"})
    assert await broker.call("rooms.remove_user", rid, bob.id, alice.id) is True
    assert await broker.call("rooms.remove_user", rid, bob.id) is False
    with pytest.raises(MeteorError):   # with an actor, its delete-p permission is checked
        await broker.call("rooms.delete", rid, bob.id)
    assert await broker.call("rooms.delete", rid) is True
    assert await broker.call("rooms.delete", rid) is False
    await settle(srv)
    assert events.of("watch.rooms")[-1]["clientAction"] == "removed"


async def test_change_events(srv, alice, bob, events):
    room = (await alice.ok("POST", "channels.create", name="announced", members=["bob"]))["channel"]
    await alice.ok("POST", "channels.setJoinCode", roomId=room["_id"], joinCode="hush")
    await alice.ok("POST", "channels.kick", roomId=room["_id"], userId=bob.id)
    await alice.ok("POST", "channels.delete", roomId=room["_id"])
    await settle(srv)
    rooms = events.of("watch.rooms")
    assert next(e["clientAction"] for e in rooms) == "inserted" and rooms[-1]["clientAction"] == "removed"
    assert all("joinCode" not in e["room"] for e in rooms)
    assert any(e["room"].get("joinCodeRequired") for e in rooms)
    subs = [(e["clientAction"], e["subscription"]["u"]["username"]) for e in events.of("watch.subscriptions")]
    assert subs.count(("inserted", "alice")) == 1 and subs.count(("inserted", "bob")) == 1
    assert subs.count(("removed", "bob")) == 1 and subs[-1] == ("removed", "alice")
    removed = next(e["subscription"] for e in events.of("watch.subscriptions") if e["clientAction"] == "removed")
    assert set(removed) == {"_id", "u", "rid", "t"}


@pytest.fixture
async def chat(server_factory):
    srv = await server_factory(plugins=(*PLUGINS, "messaging"), env={"ORBITCHAT_BCRYPT_ROUNDS": "4"})
    alice = Caller(srv, await create_user(srv, "alice"))
    bob = Caller(srv, await create_user(srv, "bob"))
    return srv, alice, bob


async def test_with_messaging_counters_follow_posted_messages(chat):
    srv, alice, bob = chat
    room = (await alice.ok("POST", "channels.create", name="real"))["channel"]
    await bob.ok("POST", "channels.join", roomId=room["_id"])   # a `uj` system message
    await settle(srv)
    await bob.ok("POST", "subscriptions.read", rid=room["_id"])
    posted = (await alice.ok("POST", "chat.postMessage", roomId=room["_id"], text="hello @bob"))["message"]
    await alice.ok("POST", "chat.postMessage", roomId=room["_id"], text="and @all")
    await settle(srv)
    info = (await bob.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    assert info["msgs"] == 3 and info["lastMessage"]["msg"] == "and @all"
    sub = (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert (sub["unread"], sub["userMentions"], sub["alert"]) == (2, 1, True)
    assert sub["groupMentions"] in (0, 1)   # @all needs mention-all, which plain users hold by default
    mine = (await alice.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert mine["unread"] == 0
    history = (await bob.ok("GET", "channels.history", roomId=room["_id"]))["messages"]
    assert [m.get("t") for m in history][-1] == "uj" and posted["_id"] in [m["_id"] for m in history]
    await alice.ok("POST", "channels.delete", roomId=room["_id"])
    assert await srv.kernel.db["rocketchat_message"].count_documents({"rid": room["_id"]}) == 0


async def test_with_messaging_system_messages_in_history(chat):
    srv, alice, _bob = chat
    room = (await alice.ok("POST", "channels.create", name="sysmsg", members=["bob"]))["channel"]
    await alice.ok("POST", "channels.setTopic", roomId=room["_id"], topic="news")
    await alice.ok("POST", "channels.rename", roomId=room["_id"], name="sysmsg2")
    await alice.ok("POST", "channels.kick", roomId=room["_id"], username="bob")
    await settle(srv)
    history = (await alice.ok("GET", "channels.history", roomId=room["_id"]))["messages"]
    assert [(m["t"], m["msg"]) for m in history] == [("ru", "bob"), ("r", "sysmsg2"), ("room_changed_topic", "news")]
    assert all(m["u"]["username"] == "alice" for m in history)
    assert (await alice.ok("GET", "channels.info", roomId=room["_id"]))["channel"]["msgs"] == 3


async def test_with_messaging_a_bot_post_joins_and_dm_is_created(chat):
    srv, alice, bob = chat
    room = (await alice.ok("POST", "channels.create", name="bots"))["channel"]
    events = await EventLog().attach(srv, "watch.subscriptions")
    await bob.ok("POST", "chat.postMessage", channel="#bots", text="hi")
    await bob.ok("POST", "chat.postMessage", channel="@alice", text="psst")
    await settle(srv)
    assert (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"] is not None
    dm = "".join(sorted([alice.id, bob.id]))
    sub = (await alice.ok("GET", "subscriptions.getOne", roomId=dm))["subscription"]
    assert sub["unread"] == 1 and sub["open"] is True
    assert any(e["subscription"]["rid"] == dm for e in events.of("watch.subscriptions"))
