"""Sending: chat.sendMessage, chat.postMessage and DDP sendMessage, in Rocket.Chat's message shape."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.plugins.messaging.conftest import settle


async def test_send_message_in_rocket_chat_shape(srv, alice, bob, events):
    room = await alice.channel("general2", ("bob",))
    msg = await alice.send(room["_id"], "hello @bob and #general2")
    assert len(msg["_id"]) == 17 and msg["rid"] == room["_id"] and msg["msg"] == "hello @bob and #general2"
    assert msg["u"] == {"_id": alice.id, "username": "alice", "name": "Alice Liddell"}
    assert msg["ts"].endswith("Z") and msg["_updatedAt"].endswith("Z")
    assert msg["mentions"] == [{"_id": bob.id, "username": "bob", "name": "Bob", "type": "user"}]
    assert msg["channels"] == [{"_id": room["_id"], "name": "general2"}]
    stored = (await bob.ok("GET", "chat.getMessage", msgId=msg["_id"]))["message"]
    assert stored == msg
    inserted = [e for e in events.of("watch.messages") if e["clientAction"] == "inserted"]
    assert [e["message"]["_id"] for e in inserted if e["message"].get("t") is None] == [msg["_id"]]
    await settle(srv)
    info = (await alice.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    assert info["msgs"] >= 1 and info["lastMessage"]["_id"] == msg["_id"]
    sub = (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert sub["unread"] >= 1 and sub["userMentions"] == 1


async def test_client_id_is_kept_and_a_resend_returns_the_same_message(srv, alice):
    room = await alice.channel("ids")
    first = await alice.send(room["_id"], "once", _id="a1b2c3d4e5f6")
    assert first["_id"] == "a1b2c3d4e5f6"
    again = await alice.send(room["_id"], "once", _id="a1b2c3d4e5f6")
    assert again["_id"] == first["_id"] and again["ts"] == first["ts"]


async def test_someone_elses_id_is_refused(srv, alice, bob):
    room = await alice.channel("ids2", ("bob",))
    await alice.send(room["_id"], "mine", _id="takenid000001")
    body = await bob.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "x",
                                                                    "_id": "takenid000001"}})
    assert body["errorType"] == "error-message-already-exists"


async def test_post_message_by_channel_name_user_and_id(srv, alice, bob):
    room = await alice.channel("posting", ("bob",))
    by_name = await alice.ok("POST", "chat.postMessage", channel="#posting", text="by name")
    assert by_name["channel"] == "#posting" and isinstance(by_name["ts"], int)
    assert by_name["message"]["rid"] == room["_id"] and by_name["message"]["groupable"] is False
    by_id = await alice.ok("POST", "chat.postMessage", roomId=room["_id"], text="by id")
    assert by_id["channel"] == room["_id"] and by_id["message"]["msg"] == "by id"
    direct = await alice.ok("POST", "chat.postMessage", channel="@bob", text="psst")
    dm = await srv.kernel.db["rocketchat_room"].find_one({"_id": direct["message"]["rid"]})
    assert dm["t"] == "d" and set(dm["uids"]) == {alice.id, bob.id}


async def test_post_message_joins_a_public_channel(srv, alice, bob):
    room = await alice.channel("open-door")
    await bob.ok("POST", "chat.postMessage", channel="#open-door", text="hi, I'm new")
    sub = (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert sub is not None


async def test_ddp_send_keeps_client_id_and_returns_ejson(srv, alice):
    room = await alice.channel("ddp-send")
    ddp = await alice.ddp()
    reply = await ddp.call("sendMessage", {"_id": "0123456789ab", "rid": room["_id"], "msg": "over ddp"})
    msg = reply["result"]
    assert msg["_id"] == "0123456789ab" and msg["msg"] == "over ddp"
    assert isinstance(msg["ts"], datetime)   # EJSON {"$date": ms}


async def test_ddp_client_timestamp_within_a_minute(srv, alice):
    room = await alice.channel("ddp-ts")
    ddp = await alice.ddp()
    sent = datetime.now(UTC) - timedelta(seconds=5)
    sent = sent.replace(microsecond=sent.microsecond - sent.microsecond % 1000)
    reply = await ddp.call("sendMessage", {"rid": room["_id"], "msg": "x", "ts": sent})
    assert reply["result"]["ts"] == sent
    stale = datetime.now(UTC) - timedelta(minutes=5)
    reply = await ddp.call("sendMessage", {"rid": room["_id"], "msg": "x", "ts": stale})
    assert reply["error"]["error"] == "error-message-ts-out-of-sync"


async def test_ddp_send_rate_limit(srv, alice, admin):
    room = await alice.channel("busy", ("boss",))
    ddp = await alice.ddp()
    replies = [await ddp.call("sendMessage", {"rid": room["_id"], "msg": f"m{i}"}) for i in range(7)]
    errors = [r["error"]["error"] for r in replies if "error" in r]
    assert errors and set(errors) == {"too-many-requests"}
    boss = await admin.ddp()   # admin holds send-many-messages
    replies = [await boss.call("sendMessage", {"rid": room["_id"], "msg": f"b{i}"}) for i in range(7)]
    assert all("result" in r for r in replies)


async def test_links_become_urls(srv, alice):
    room = await alice.channel("links")
    msg = await alice.send(room["_id"], "read https://example.org/a?b=1#top, then https://example.org/a?b=1#top.")
    assert msg["urls"] == [{"url": "https://example.org/a?b=1#top"}]
    assert (await alice.send(room["_id"], "no links"))["urls"] == []
    posted = await alice.ok("POST", "chat.postMessage", roomId=room["_id"], text="https://example.org",
                            attachments=[{"text": "card"}])
    assert posted["message"]["urls"] == []          # Rocket.Chat: attachments turn URL parsing off
    posted = await alice.ok("POST", "chat.postMessage", roomId=room["_id"], text="https://example.org",
                            attachments=[{"text": "card"}], parseUrls=True)
    assert posted["message"]["urls"] == [{"url": "https://example.org"}]
    edited = (await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"],
                             text="now http://example.com"))["message"]
    assert edited["urls"] == [{"url": "http://example.com"}]
