"""Who may post what, where: size limit, room access, archived and read-only rooms, muted users,
impersonation, custom fields, threads and system messages."""
from __future__ import annotations

import pytest

from tests.plugins.messaging.conftest import caller, make_server


async def test_message_size_limit(srv, alice):
    room = await alice.channel("sizes")
    await alice.send(room["_id"], "x" * 5000)
    body = await alice.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "x" * 5001}})
    assert body["errorType"] == "error-message-size-exceeded"
    body = await alice.fails("POST", "chat.postMessage", roomId=room["_id"], text="y" * 5001)
    assert body["errorType"] == "error-message-size-exceeded"


async def test_size_limit_follows_the_setting(server_factory):
    srv = await make_server(server_factory, env={"OVERWRITE_SETTING_Message_MaxAllowedSize": "10"})
    alice = await caller(srv, "alice")
    room = await alice.channel("tiny")
    await alice.send(room["_id"], "0123456789")
    body = await alice.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "01234567890"}})
    assert body["errorType"] == "error-message-size-exceeded"


async def test_private_group_refuses_outsiders(srv, alice, bob):
    group = await alice.group("secret")
    body = await bob.fails("POST", "chat.sendMessage", {"message": {"rid": group["_id"], "msg": "let me in"}})
    assert body["errorType"] == "error-not-allowed"
    body = await bob.fails("POST", "chat.postMessage", roomId=group["_id"], text="hi")
    assert body["errorType"] in ("error-not-allowed", "invalid-channel")


async def test_unknown_room(srv, alice):
    body = await alice.fails("POST", "chat.sendMessage", {"message": {"rid": "nosuchroom", "msg": "hello"}})
    assert body["errorType"] == "error-invalid-room"


async def test_archived_room_refuses_messages(srv, alice):
    room = await alice.channel("old-news")
    await alice.ok("POST", "channels.archive", roomId=room["_id"])
    body = await alice.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "anyone?"}})
    assert body["errorType"] == "error-room-archived"


async def test_read_only_room_owner_may_post_members_may_not(srv, alice, bob):
    room = await alice.channel("announcements", ("bob",), readOnly=True)
    await alice.send(room["_id"], "from the owner")
    body = await bob.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "me too"}})
    assert body["error"] == "You can't send messages because the room is readonly."
    ddp = await bob.ddp()
    reply = await ddp.call("sendMessage", {"rid": room["_id"], "msg": "over ddp"})
    assert "error" in reply
    # a moderator holds post-readonly in that room
    await alice.ok("POST", "channels.addModerator", roomId=room["_id"], userId=bob.id)
    await bob.send(room["_id"], "moderated")


async def test_muted_user_cannot_post(srv, alice, bob):
    room = await alice.channel("quiet", ("bob",))
    # No mute endpoint yet: the write a room service would make, and the change event it would announce
    rooms = srv.kernel.db["rocketchat_room"]
    await rooms.update_one({"_id": room["_id"]}, {"$set": {"muted": ["bob"]}})
    await srv.kernel.broker.emit("watch.rooms", {"clientAction": "updated",
                                                 "room": await rooms.find_one({"_id": room["_id"]})})
    body = await bob.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "hmm"}})
    assert body["errorType"] == "error-not-allowed"


async def test_impersonation_needs_permission(srv, alice):
    room = await alice.channel("masks")
    for field in ({"alias": "Someone Else"}, {"avatar": "https://example.org/a.png"}, {"emoji": ":ghost:"}):
        body = await alice.fails("POST", "chat.postMessage", roomId=room["_id"], text="boo", **field)
        assert body["error"] == "Not enough permission"
    bot = await caller(srv, "robo", roles=("bot",))
    await srv.kernel.db["rocketchat_subscription"].insert_one(
        {"_id": "sub-robo", "rid": room["_id"], "u": {"_id": bot.id, "username": "robo"}, "t": "c"})
    sent = await bot.ok("POST", "chat.postMessage", roomId=room["_id"], text="beep", alias="Robot",
                        emoji=":robot:")
    assert sent["message"]["alias"] == "Robot" and sent["message"]["emoji"] == ":robot:"


async def test_custom_fields_need_the_setting_and_its_schema(server_factory):
    srv = await make_server(server_factory)
    alice = await caller(srv, "alice")
    room = await alice.channel("custom")
    body = await alice.fails("POST", "chat.sendMessage",
                             {"message": {"rid": room["_id"], "msg": "x", "customFields": {"ticket": "T-1"}}})
    assert body["error"] == "Custom fields not enabled"
    enabled = await make_server(server_factory, env={
        "OVERWRITE_SETTING_Message_CustomFields_Enabled": "true",
        "OVERWRITE_SETTING_Message_CustomFields": '{"type":"object","properties":{"ticket":{"type":"string"}},'
                                                  '"additionalProperties":false}'})
    carol = await caller(enabled, "carol")
    room = await carol.channel("custom2")
    sent = await carol.send(room["_id"], "x", customFields={"ticket": "T-1"})
    assert sent["customFields"] == {"ticket": "T-1"}
    body = await carol.fails("POST", "chat.sendMessage",
                             {"message": {"rid": room["_id"], "msg": "x", "customFields": {"other": 1}}})
    assert body["errorType"] == "error-invalid-custom-fields"


@pytest.mark.parametrize("kind", ["uj", "ul", "rm", "message_pinned", "au"])
async def test_system_messages_cannot_be_sent_by_clients(srv, alice, kind):
    room = await alice.channel("systemic")
    body = await alice.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "x", "t": kind}})
    assert "Cannot send system messages" in body["error"]
    ddp = await alice.ddp()
    reply = await ddp.call("sendMessage", {"rid": room["_id"], "msg": "x", "t": kind})
    assert "error" in reply


async def test_tshow_needs_tmid_and_threads_can_be_disabled(server_factory):
    srv = await make_server(server_factory, env={"OVERWRITE_SETTING_Threads_enabled": "false"})
    alice = await caller(srv, "alice")
    room = await alice.channel("flat")
    parent = await alice.send(room["_id"], "parent")
    body = await alice.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "x", "tshow": True}})
    assert body["errorType"] == "invalid-params"
    body = await alice.fails("POST", "chat.sendMessage",
                             {"message": {"rid": room["_id"], "msg": "x", "tmid": parent["_id"]}})
    assert body["errorType"] == "error-not-allowed"


async def test_mentions_all_here_unknown_and_channels(srv, alice, bob):
    room = await alice.channel("mentions", ("bob",))
    msg = await alice.send(room["_id"], "@all @here @nobody @bob. see #mentions and #nowhere, mail x@bob.org")
    assert [m["_id"] for m in msg["mentions"]] == ["all", "here", bob.id]
    assert all(m["type"] == "user" for m in msg["mentions"])
    assert msg["channels"] == [{"_id": room["_id"], "name": "mentions"}]
    plain = await alice.send(room["_id"], "no mentions at all")
    assert plain["mentions"] == [] and plain["channels"] == []


async def test_group_mentions_need_their_permissions(srv, alice, admin):
    room = await alice.channel("loud", ("boss",))
    await admin.ok("POST", "permissions.update", permissions=[{"_id": "mention-all", "roles": ["admin"]}])
    msg = await alice.send(room["_id"], "@all look")
    assert [m["_id"] for m in msg["mentions"]] == []
    msg = await admin.send(room["_id"], "@all look")
    assert [m["_id"] for m in msg["mentions"]] == ["all"]


async def test_outsiders_read_nothing_of_a_private_group(srv, alice, bob):
    group = await alice.group("vault")
    msg = await alice.send(group["_id"], "the combination")
    reply = await alice.send(group["_id"], "in a thread", tmid=msg["_id"])
    rid = group["_id"]
    for method, path, params in [
        ("GET", "chat.getMessage", {"msgId": msg["_id"]}),
        ("GET", "chat.getThreadMessages", {"tmid": msg["_id"]}),
        ("GET", "chat.getThreadsList", {"rid": rid}),
        ("GET", "chat.search", {"roomId": rid, "searchText": "combination"}),
        ("GET", "chat.syncMessages", {"roomId": rid, "lastUpdate": "2000-01-01T00:00:00Z"}),
        ("GET", "chat.getPinnedMessages", {"roomId": rid}),
        ("GET", "chat.getStarredMessages", {"roomId": rid}),
        ("GET", "chat.getMentionedMessages", {"roomId": rid}),
        ("GET", "chat.getDeletedMessages", {"roomId": rid, "since": "2000-01-01T00:00:00Z"}),
        ("GET", "groups.history", {"roomId": rid}),
        ("GET", "groups.messages", {"roomId": rid}),
        ("GET", "groups.files", {"roomId": rid}),
        ("POST", "chat.update", {"roomId": rid, "msgId": msg["_id"], "text": "mine now"}),
        ("POST", "chat.delete", {"roomId": rid, "msgId": msg["_id"]}),
        ("POST", "chat.react", {"messageId": msg["_id"], "emoji": "eyes"}),
        ("POST", "chat.pinMessage", {"messageId": msg["_id"]}),
        ("POST", "chat.followMessage", {"mid": msg["_id"]}),
    ]:
        r = await (bob.get(path, **params) if method == "GET" else bob.post(path, params))
        assert r.status_code in (400, 403), (path, r.status_code, r.text)
        assert "combination" not in r.text and "in a thread" not in r.text, path
    await bob.ok("POST", "chat.starMessage", messageId=msg["_id"])      # Rocket.Chat: a silent no-op
    assert "starred" not in (await alice.ok("GET", "chat.getMessage", msgId=msg["_id"]))["message"]
    ddp = await bob.ddp()
    for method, params in [("loadHistory", [rid]), ("loadNextMessages", [rid]), ("loadMissedMessages", [rid, 0]),
                           ("loadSurroundingMessages", [{"_id": reply["_id"]}])]:
        assert (await ddp.call(method, *params)).get("result") is False, method
    for method, params in [("getSingleMessage", [msg["_id"]]), ("getThreadMessages", [{"tmid": msg["_id"]}]),
                           ("messages/get", [rid, {"lastUpdate": {"$date": 0}}])]:
        assert "error" in await ddp.call(method, *params), method
