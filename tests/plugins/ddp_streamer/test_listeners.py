"""Broker events become stream events with Rocket.Chat's event names and argument shapes."""
from __future__ import annotations

import asyncio

import pytest

from tests.plugins.ddp_streamer.conftest import event_of, logged_in

OPTS = {"useCollection": False, "args": []}


async def quiet(client, predicate, timeout: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        await client.expect(predicate, timeout=timeout)


async def test_presence_status(srv, directory):
    alice, bob = directory.add("alice"), directory.add("bob")
    c = await logged_in(srv, alice)
    await c.sub("stream-notify-logged", "user-status", False)
    await c.sub("stream-notify-user", f"{bob.id}/userData", False)   # not allowed: someone else's
    await srv.kernel.broker.emit("presence.status", {
        "user": {"_id": bob.id, "username": "bob", "status": "away", "statusText": "lunch", "name": "Bob",
                 "roles": ["user"]}, "previousStatus": "online"})
    msg = await c.expect(event_of("stream-notify-logged", "user-status"))
    assert msg["fields"]["args"] == [[bob.id, "bob", 2, "lunch", "Bob", ["user"]]]
    await srv.kernel.broker.emit("presence.status", {"user": {"_id": bob.id, "username": "bob", "status": "busy"}})
    assert (await c.expect(event_of("stream-notify-logged", "user-status")))["fields"]["args"][0][2:4] == [3, ""]
    await quiet(c, event_of("stream-notify-user"))


async def test_room_messages_and_my_messages(srv, directory):
    alice = directory.add("alice")
    directory.allow(alice, "R1")
    db = srv.kernel.db
    await db["rocketchat_room"].insert_many([{"_id": "R1", "t": "c", "name": "general"},
                                              {"_id": "R2", "t": "p", "name": "secret"}])
    await db["rocketchat_subscription"].insert_one({"_id": "S1", "rid": "R1", "u": {"_id": alice.id}})
    c = await logged_in(srv, alice)
    await c.sub("stream-room-messages", "R1", OPTS)
    await c.sub("stream-room-messages", "__my_messages__", OPTS)
    message = {"_id": "M1", "rid": "R1", "msg": "hi", "u": {"_id": "x", "username": "x"}}
    await srv.kernel.broker.emit("watch.messages", {"clientAction": "inserted", "message": message})
    room = await c.expect(event_of("stream-room-messages", "R1"))
    assert room["fields"]["args"] == [message] and room["id"] == "id"
    mine = await c.expect(event_of("stream-room-messages", "__my_messages__"))
    assert mine["fields"]["args"] == [message, {"roomParticipant": True, "roomType": "c", "roomName": "general"}]
    # a room alice may not read never reaches her __my_messages__
    await srv.kernel.broker.emit("watch.messages", {"clientAction": "inserted",
                                                    "message": {**message, "_id": "M2", "rid": "R2"}})
    await quiet(c, event_of("stream-room-messages"))
    edited = {**message, "msg": "hi!", "editedAt": None}
    await srv.kernel.broker.emit("watch.messages", {"clientAction": "updated", "message": edited})
    assert (await c.expect(event_of("stream-room-messages", "R1")))["fields"]["args"][0]["msg"] == "hi!"


async def test_user_streams(srv, directory):
    alice = directory.add("alice")
    c = await logged_in(srv, alice)
    for event in ("subscriptions-changed", "userData", "message", "notification", "force_logout",
                  "uiInteraction"):
        await c.sub("stream-notify-user", f"{alice.id}/{event}", False)
    emit = srv.kernel.broker.emit
    sub = {"_id": "S9", "rid": "R9", "u": {"_id": alice.id, "username": "alice"}, "name": "x", "t": "c"}
    await emit("watch.subscriptions", {"clientAction": "inserted", "subscription": sub})
    got = await c.expect(event_of("stream-notify-user", f"{alice.id}/subscriptions-changed"))
    assert got["fields"]["args"] == ["inserted", sub]

    await emit("watch.users", {"clientAction": "updated", "id": alice.id, "diff": {
        "name": "Alice A", "services.resume.loginTokens": []}, "unset": {"bio": 1}})
    got = await c.expect(event_of("stream-notify-user", f"{alice.id}/userData"))
    assert got["fields"]["args"] == [{"type": "updated", "id": alice.id, "diff": {"name": "Alice A"},
                                      "unset": {"bio": 1}}]
    await emit("watch.users", {"clientAction": "inserted", "id": alice.id,
                               "data": {"_id": alice.id, "services": {"password": {}}, "username": "alice"}})
    got = await c.expect(event_of("stream-notify-user", f"{alice.id}/userData"))
    assert got["fields"]["args"][0]["data"] == {"_id": alice.id, "username": "alice"}

    await emit("notify.ephemeralMessage", {"uid": alice.id, "rid": "R1", "message": {"msg": "only you"}})
    got = (await c.expect(event_of("stream-notify-user", f"{alice.id}/message")))["fields"]["args"][0]
    assert got["msg"] == "only you" and got["rid"] == "R1" and got["_id"] and got["ts"].year >= 2024
    await emit("notify.desktop", {"uid": alice.id, "notification": {"title": "t", "text": "x"}})
    got = await c.expect(event_of("stream-notify-user", f"{alice.id}/notification"))
    assert got["fields"]["args"] == [{"title": "t", "text": "x"}]


async def test_room_notifications(srv, directory):
    alice = directory.add("alice")
    directory.allow(alice, "R1")
    c = await logged_in(srv, alice)
    for event in ("deleteMessage", "messagesRead", "deleteMessageBulk"):
        await c.sub("stream-notify-room", f"R1/{event}", OPTS)
    emit = srv.kernel.broker.emit
    await emit("notify.deleteMessage", {"rid": "R1", "_id": "M1"})
    assert (await c.expect(event_of("stream-notify-room", "R1/deleteMessage")))["fields"]["args"] == [{"_id": "M1"}]
    await emit("notify.messagesRead", {"rid": "R1", "until": 5, "tmid": "T1"})
    got = await c.expect(event_of("stream-notify-room", "R1/messagesRead"))
    assert got["fields"]["args"] == [{"until": 5, "tmid": "T1"}]
    await emit("notify.deleteMessageBulk", {"rid": "R1", "ids": ["a"]})
    got = await c.expect(event_of("stream-notify-room", "R1/deleteMessageBulk"))
    assert got["fields"]["args"] == [{"rid": "R1", "ids": ["a"]}]


async def test_logged_roles_and_apps_events(srv, directory):
    alice = directory.add("alice")
    c = await logged_in(srv, alice)
    for event in ("Users:NameChanged", "Users:Deleted", "roles-change", "permissions-changed", "updateAvatar"):
        await c.sub("stream-notify-logged", event, False)
    await c.sub("stream-roles", "roles", False)
    anon = await srv.ddp()
    await anon.sub("stream-apps", "apps", False)
    emit = srv.kernel.broker.emit
    await emit("user.nameChanged", {"_id": "u1", "name": "N", "username": "n"})
    got = await c.expect(event_of("stream-notify-logged", "Users:NameChanged"))
    assert got["fields"]["args"] == [{"_id": "u1", "name": "N", "username": "n"}]
    await emit("user.deleted", {"userId": "u1"})
    assert (await c.expect(event_of("stream-notify-logged", "Users:Deleted")))["fields"]["args"] == [{"userId": "u1"}]
    change = {"type": "added", "_id": "moderator", "u": {"_id": "u1", "username": "n"}, "scope": "R1"}
    await emit("user.roleUpdate", change)
    assert (await c.expect(event_of("stream-notify-logged", "roles-change")))["fields"]["args"] == [change]
    await emit("permission.changed", {"clientAction": "updated", "data": {"_id": "view-c-room", "roles": []}})
    got = await c.expect(event_of("stream-notify-logged", "permissions-changed"))
    assert got["fields"]["args"] == ["updated", {"_id": "view-c-room", "roles": []}]
    await emit("user.avatarUpdate", {"username": "n", "avatarETag": "e1"})
    got = await c.expect(event_of("stream-notify-logged", "updateAvatar"))
    assert got["fields"]["args"] == [{"username": "n", "etag": "e1"}]
    await emit("watch.roles", {"clientAction": "removed", "role": {"_id": "r", "name": "r"}})
    got = await c.expect(event_of("stream-roles", "roles"))
    assert got["fields"]["args"] == [{"type": "removed", "_id": "r", "name": "r"}]
    await emit("apps.statusUpdate", ["app1", "enabled"])
    got = await anon.expect(event_of("stream-apps", "apps"))
    assert got["fields"]["args"] == [["app/statusUpdate", [{"appId": "app1", "status": "enabled"}]]]
    await emit("apps.added", "app2")
    assert (await anon.expect(event_of("stream-apps", "apps")))["fields"]["args"] == [["app/added", ["app2"]]]
    await emit("command.removed", ["weather"])
    got = await anon.expect(event_of("stream-apps", "apps"))
    assert got["fields"]["args"] == [["command/removed", ["weather"]]]
    await emit("actions.changed", None)
    assert (await anon.expect(event_of("stream-apps", "apps")))["fields"]["args"] == [["actions/changed", []]]


async def test_rooms_changed_reaches_subscribed_members_only(srv, directory):
    alice, bob = directory.add("alice"), directory.add("bob")
    db = srv.kernel.db
    await db["rocketchat_room"].insert_one({"_id": "R1", "t": "c", "name": "general", "joinCode": "secret"})
    await db["rocketchat_subscription"].insert_one({"_id": "S1", "rid": "R1", "u": {"_id": alice.id}})
    a, b = await logged_in(srv, alice), await logged_in(srv, bob)
    await a.sub("stream-notify-user", f"{alice.id}/rooms-changed", False)
    await b.sub("stream-notify-user", f"{bob.id}/rooms-changed", False)
    room = {"_id": "R1", "t": "c", "name": "general", "topic": "new"}
    await srv.kernel.broker.emit("watch.rooms", {"clientAction": "updated", "room": {**room, "joinCode": "s"}})
    got = await a.expect(event_of("stream-notify-user", f"{alice.id}/rooms-changed"))
    assert got["fields"]["args"] == ["updated", room]   # the join code never leaves the server
    await quiet(b, event_of("stream-notify-user"))
    # bob joins: the subscription event binds him; he hears of the room at once, then of its changes
    await db["rocketchat_subscription"].insert_one({"_id": "S2", "rid": "R1", "u": {"_id": bob.id}})
    await srv.kernel.broker.emit("watch.subscriptions", {"clientAction": "inserted",
                                                         "subscription": {"_id": "S2", "rid": "R1",
                                                                          "u": {"_id": bob.id}}})
    got = await b.expect(event_of("stream-notify-user", f"{bob.id}/rooms-changed"))
    assert got["fields"]["args"][0] == "inserted" and got["fields"]["args"][1]["_id"] == "R1"
    assert "joinCode" not in got["fields"]["args"][1]
    await srv.kernel.broker.emit("watch.rooms", {"clientAction": "updated", "room": room})
    await b.expect(event_of("stream-notify-user", f"{bob.id}/rooms-changed"))
    await a.expect(event_of("stream-notify-user", f"{alice.id}/rooms-changed"))
    # alice leaves: no more room events for her
    await srv.kernel.broker.emit("watch.subscriptions", {"clientAction": "removed",
                                                         "subscription": {"_id": "S1", "rid": "R1",
                                                                          "u": {"_id": alice.id}}})
    await srv.kernel.broker.emit("watch.rooms", {"clientAction": "updated", "room": room})
    await b.expect(event_of("stream-notify-user", f"{bob.id}/rooms-changed"))
    await quiet(a, event_of("stream-notify-user", f"{alice.id}/rooms-changed"))


async def test_nobody_listening_costs_no_database_read(srv, directory):
    """Room events with no rooms-changed listener in this process touch neither the database nor
    the bindings."""
    await srv.kernel.broker.emit("watch.rooms", {"clientAction": "updated", "room": {"_id": "R1"}})
    svc = next(p for n, p in srv.kernel.selection.plugins if n == "ddp_streamer").service
    assert svc.bindings._users_of == {} and svc.bindings._rooms_of == {}
    await asyncio.sleep(0)


async def test_leaving_a_private_room_stops_its_streams(srv, directory):
    alice = directory.add("alice")
    directory.allow(alice, "R1")
    c = await logged_in(srv, alice)
    msgs = await c.sub("stream-room-messages", "R1", OPTS)
    typing = await c.sub("stream-notify-room", "R1/typing", OPTS)
    directory.deny(alice, "R1")
    await srv.kernel.broker.emit("watch.subscriptions", {"clientAction": "removed",
                                                         "subscription": {"_id": "S1", "rid": "R1",
                                                                          "u": {"_id": alice.id}}})
    for sub in (msgs, typing):
        await c.expect(lambda m, sid=sub["_sub_id"]: m.get("msg") == "nosub" and m.get("id") == sid)
    assert srv.kernel.ddp.subscriber_count("stream-room-messages", "R1") == 0
    await srv.kernel.broker.emit("watch.messages", {"clientAction": "inserted",
                                                    "message": {"_id": "M", "rid": "R1", "msg": "x"}})
    await quiet(c, event_of("stream-room-messages"))


async def test_banners_emoji_sounds_and_the_generic_relay(srv, directory):
    c = await logged_in(srv, directory.add("alice"))
    for event in ("banner-changed", "new-banner", "updateEmojiCustom"):
        await c.sub("stream-notify-logged", event, False)
    await c.sub("stream-notify-all", "deleteCustomSound", False)
    await c.sub("stream-notify-logged", "whatever-service-event", False)
    emit = srv.kernel.broker.emit
    await emit("banner.new", "B1")
    assert (await c.expect(event_of("stream-notify-logged", "banner-changed")))["fields"]["args"] == \
        [{"bannerId": "B1"}]
    assert (await c.expect(event_of("stream-notify-logged", "new-banner")))["fields"]["args"] == [{"bannerId": "B1"}]
    await emit("emoji.updateCustom", {"emojiData": {"name": "party"}})
    got = await c.expect(event_of("stream-notify-logged", "updateEmojiCustom"))
    assert got["fields"]["args"] == [{"emojiData": {"name": "party"}}]
    await emit("notify.deleteCustomSound", {"_id": "s1"})
    got = await c.expect(event_of("stream-notify-all", "deleteCustomSound"))
    assert got["fields"]["args"] == [{"soundData": {"_id": "s1"}}]
    await emit("stream", ["notify-logged", "whatever-service-event", [1, 2]])
    got = await c.expect(event_of("stream-notify-logged", "whatever-service-event"))
    assert got["fields"]["args"] == [1, 2]
    await emit("stream", ["not-a-stream", "x", []])   # unknown streams are not relayed
