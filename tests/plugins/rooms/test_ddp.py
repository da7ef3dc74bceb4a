"""The rooms DDP methods over a real websocket, as Rocket.Chat clients call them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.plugins.rooms.conftest import settle


def ok(reply: dict):
    assert "error" not in reply, reply
    return reply.get("result")


def err(reply: dict) -> str:
    assert "error" in reply, reply
    return reply["error"]["error"]


async def test_create_channel_group_and_direct_message(srv, alice, bob):
    ws = await alice.ddp()
    ch = ok(await ws.call("createChannel", "ddp-room", ["bob"], False))
    assert ch["rid"] == ch["_id"] and ch["t"] == "c" and ch["usersCount"] == 2
    assert isinstance(ch["ts"], datetime)   # EJSON {"$date": ms} on the wire
    group = ok(await ws.call("createPrivateGroup", "ddp-group", [], True, None, {"topic": "hidden"}))
    assert group["t"] == "p" and group["ro"] is True and group["topic"] == "hidden"
    dm = ok(await ws.call("createDirectMessage", "bob"))
    assert dm["t"] == "d" and dm["rid"] == "".join(sorted([alice.id, bob.id])) and dm["usernames"] == ["alice", "bob"]
    assert err(await ws.call("createChannel", "ddp-room", [])) == "error-duplicate-channel-name"
    assert err(await ws.call("createChannel", "bad name!", [])) == "error-invalid-room-name"
    assert err(await ws.call("createChannel", {"$ne": None}, [])) == "error-invalid-params"
    assert err(await ws.call("createDirectMessage", "ghost")) == "error-invalid-user"


async def test_join_leave_and_get(srv, alice, bob):
    room = (await alice.ok("POST", "channels.create", name="ddp-lobby"))["channel"]
    ws = await bob.ddp()
    assert ok(await ws.call("joinRoom", room["_id"])) is True
    assert ok(await ws.call("joinRoom", room["_id"])) is None   # already a member
    rooms = ok(await ws.call("rooms/get"))
    assert [r["_id"] for r in rooms] == [room["_id"]]
    subs = ok(await ws.call("subscriptions/get"))
    assert [s["rid"] for s in subs] == [room["_id"]] and subs[0]["unread"] == 1
    since = datetime.now(UTC) - timedelta(seconds=60)
    delta = ok(await ws.call("subscriptions/get", since))
    assert set(delta) == {"update", "remove"} and len(delta["update"]) == 1
    ok(await ws.call("readMessages", room["_id"]))
    assert ok(await ws.call("subscriptions/get"))[0]["unread"] == 0
    ok(await ws.call("leaveRoom", room["_id"]))
    assert ok(await ws.call("rooms/get")) == []
    assert err(await ws.call("leaveRoom", room["_id"])) == "error-user-not-in-room"
    assert err(await ws.call("joinRoom", "nope")) == "error-invalid-room"
    assert err(await ws.call("readMessages", "nope")) == "error-room-does-not-exist"


async def test_room_lookups_and_roles(srv, alice, bob, carol):
    room = (await alice.ok("POST", "channels.create", name="lookup", members=["bob"]))["channel"]
    group = (await alice.ok("POST", "groups.create", name="lookup-p"))["group"]
    ws = await bob.ddp()
    assert ok(await ws.call("getRoomById", room["_id"]))["name"] == "lookup"
    assert ok(await ws.call("getRoomByTypeAndName", "c", "lookup"))["_id"] == room["_id"]
    assert err(await ws.call("getRoomByTypeAndName", "p", "lookup-p")) == "error-not-allowed"
    assert err(await ws.call("getRoomById", group["_id"])) == "error-not-allowed"
    roles = ok(await ws.call("getRoomRoles", room["_id"]))
    assert [(r["u"]["username"], r["roles"]) for r in roles] == [("alice", ["owner"])]
    owner = await alice.ddp()
    assert ok(await owner.call("addRoomModerator", room["_id"], bob.id)) is True
    assert [r["u"]["username"] for r in ok(await ws.call("getRoomRoles", room["_id"]))] == ["alice", "bob"]
    assert err(await ws.call("addRoomOwner", room["_id"], bob.id)) == "error-not-allowed"
    dm = (await alice.ok("POST", "im.create", username="bob"))["room"]
    assert ok(await ws.call("getRoomByTypeAndName", "d", "alice"))["_id"] == dm["_id"]
    third = await carol.ddp()
    assert err(await third.call("getRoomByTypeAndName", "d", dm["_id"])) == "error-not-allowed"


async def test_save_room_settings_method(srv, alice, bob):
    room = (await alice.ok("POST", "channels.create", name="ddp-settings", members=["bob"]))["channel"]
    ws = await alice.ddp()
    assert ok(await ws.call("saveRoomSettings", room["_id"], "roomTopic", "via ddp")) == {
        "result": True, "rid": room["_id"]}
    ok(await ws.call("saveRoomSettings", room["_id"], {"roomDescription": "d", "roomName": "ddp-renamed"}))
    info = (await alice.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    assert (info["topic"], info["description"], info["name"]) == ("via ddp", "d", "ddp-renamed")
    assert err(await ws.call("saveRoomSettings", room["_id"], "ts", 1)) == "error-invalid-settings"
    assert err(await ws.call("saveRoomSettings", room["_id"], "roomTopic", {"$set": 1})) == "error-invalid-settings"
    assert err(await (await bob.ddp()).call("saveRoomSettings", room["_id"], "roomTopic", "x")) == \
        "error-action-not-allowed"


async def test_hide_open_favorite(srv, alice, events):
    room = (await alice.ok("POST", "channels.create", name="ddp-hide"))["channel"]
    ws = await alice.ddp()
    assert ok(await ws.call("hideRoom", room["_id"])) == 1
    assert ok(await ws.call("subscriptions/get"))[0]["open"] is False
    assert ok(await ws.call("openRoom", room["_id"])) == 1
    assert ok(await ws.call("toggleFavorite", room["_id"], True)) == 1
    assert ok(await ws.call("subscriptions/get"))[0]["f"] is True
    assert err(await ws.call("toggleFavorite", "nope", True)) == "error-invalid-subscription"
    await settle(srv)
    assert [e["subscription"]["open"] for e in events.of("watch.subscriptions")
            if e["clientAction"] == "updated"][:2] == [False, True]


async def test_moderation_methods(srv, alice, bob, carol, admin):
    room = (await alice.ok("POST", "channels.create", name="ddp-mod"))["channel"]
    ws = await alice.ddp()
    assert ok(await ws.call("addUsersToRoom", {"rid": room["_id"], "users": ["bob", "carol"]})) is True
    assert ok(await ws.call("removeUserFromRoom", {"rid": room["_id"], "username": "carol"})) is True
    assert ok(await ws.call("archiveRoom", room["_id"])) is True
    assert err(await ws.call("unarchiveRoom", room["_id"])) == "error-not-authorized"
    boss = await admin.ddp()
    assert ok(await boss.call("unarchiveRoom", room["_id"])) is True
    assert err(await (await bob.ddp()).call("eraseRoom", room["_id"])) == "error-not-allowed"
    assert ok(await ws.call("eraseRoom", room["_id"])) is True
    assert ok(await ws.call("rooms/get")) == []


async def test_methods_need_login(srv):
    ws = await srv.ddp()
    reply = await ws.call("rooms/get")
    assert reply["error"]["error"] == 401
