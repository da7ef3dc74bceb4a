"""Reactions, pins, stars, follows and threads."""
from __future__ import annotations

import pytest

from tests.plugins.messaging.conftest import settle


async def stored(caller, mid: str) -> dict:
    return (await caller.ok("GET", "chat.getMessage", msgId=mid))["message"]


async def test_react_toggles_and_normalises_emoji(srv, alice, bob, events):
    room = await alice.channel("reactions", ("bob",))
    msg = await alice.send(room["_id"], "react to me")
    await alice.ok("POST", "chat.react", messageId=msg["_id"], emoji="smile")
    await bob.ok("POST", "chat.react", messageId=msg["_id"], emoji=":smile:")
    await bob.ok("POST", "chat.react", messageId=msg["_id"], reaction=":+1:")
    got = await stored(alice, msg["_id"])
    assert got["reactions"] == {":smile:": {"usernames": ["alice", "bob"]}, ":+1:": {"usernames": ["bob"]}}
    await alice.ok("POST", "chat.react", messageId=msg["_id"], emoji="smile")        # toggle off
    await bob.ok("POST", "chat.react", messageId=msg["_id"], emoji="+1", shouldReact=True)   # already: no-op
    got = await stored(alice, msg["_id"])
    assert got["reactions"] == {":smile:": {"usernames": ["bob"]}, ":+1:": {"usernames": ["bob"]}}
    await bob.ok("POST", "chat.react", messageId=msg["_id"], emoji="smile", shouldReact=False)
    await bob.ok("POST", "chat.react", messageId=msg["_id"], emoji="+1")
    assert "reactions" not in await stored(alice, msg["_id"])
    updates = [e for e in events.of("watch.messages") if e["clientAction"] == "updated"]
    assert len(updates) == 6


@pytest.mark.parametrize("emoji", ["smile.x", "$set", "a b", "x" * 80, ":"])
async def test_bad_emoji_names_are_refused(srv, alice, emoji):
    room = await alice.channel("bad-emoji")
    msg = await alice.send(room["_id"], "x")
    body = await alice.fails("POST", "chat.react", messageId=msg["_id"], emoji=emoji)
    assert body["errorType"] in ("error-not-allowed", "error-emoji-param-not-provided", "invalid-params")


async def test_react_over_ddp_and_outsiders_refused(srv, alice, bob):
    group = await alice.group("react-private")
    msg = await alice.send(group["_id"], "private")
    ddp = await alice.ddp()
    reply = await ddp.call("setReaction", ":tada:", msg["_id"])
    assert "error" not in reply
    assert (await stored(alice, msg["_id"]))["reactions"] == {":tada:": {"usernames": ["alice"]}}
    body = await bob.fails("POST", "chat.react", messageId=msg["_id"], emoji="tada")
    assert body["errorType"] == "not-authorized"


async def test_pin_and_unpin(srv, alice, bob):
    room = await alice.channel("pins", ("bob",))
    msg = await bob.send(room["_id"], "important", attachments=[{"text": "details"}])
    pin = (await alice.ok("POST", "chat.pinMessage", messageId=msg["_id"]))["message"]
    assert pin["t"] == "message_pinned" and pin["rid"] == room["_id"] and pin["u"]["_id"] == alice.id
    quoted = pin["attachments"][0]
    assert quoted["text"] == "important" and quoted["author_name"] == "bob" and quoted["ts"] == msg["ts"]
    assert quoted["attachments"] == [{"text": "details"}]
    got = await stored(alice, msg["_id"])
    assert got["pinned"] is True and got["pinnedBy"] == {"_id": alice.id, "username": "alice"} and got["pinnedAt"]
    listed = await bob.ok("GET", "chat.getPinnedMessages", roomId=room["_id"])
    assert [m["_id"] for m in listed["messages"]] == [msg["_id"]] and listed["total"] == 1
    await alice.ok("POST", "chat.unPinMessage", messageId=msg["_id"])
    assert (await stored(alice, msg["_id"]))["pinned"] is False
    assert (await bob.ok("GET", "chat.getPinnedMessages", roomId=room["_id"]))["messages"] == []


async def test_pin_needs_pin_message(srv, alice, bob):
    room = await alice.channel("pins2", ("bob",))
    msg = await alice.send(room["_id"], "x")
    body = await bob.fails("POST", "chat.pinMessage", messageId=msg["_id"])
    assert body["errorType"] == "not-authorized"
    body = await bob.fails("POST", "chat.pinMessage", messageId="nosuchmessage")
    assert body["errorType"] == "error-message-not-found"


async def test_star_and_unstar(srv, alice, bob):
    room = await alice.channel("stars", ("bob",))
    msg = await alice.send(room["_id"], "star me")
    await bob.ok("POST", "chat.starMessage", messageId=msg["_id"])
    await alice.ok("POST", "chat.starMessage", messageId=msg["_id"])
    assert (await stored(alice, msg["_id"]))["starred"] == [{"_id": bob.id}, {"_id": alice.id}]
    mine = await bob.ok("GET", "chat.getStarredMessages", roomId=room["_id"])
    assert [m["_id"] for m in mine["messages"]] == [msg["_id"]]
    await bob.ok("POST", "chat.unStarMessage", messageId=msg["_id"])
    assert (await stored(alice, msg["_id"]))["starred"] == [{"_id": alice.id}]
    assert (await bob.ok("GET", "chat.getStarredMessages", roomId=room["_id"]))["total"] == 0
    ddp = await bob.ddp()
    assert (await ddp.call("starMessage", {"_id": msg["_id"], "rid": room["_id"], "starred": True}))["result"] is True


async def test_threads_count_replies_and_followers(srv, alice, bob, carol):
    room = await alice.channel("threads", ("bob", "carol"))
    parent = await alice.send(room["_id"], "topic")
    first = await bob.send(room["_id"], "reply one", tmid=parent["_id"])
    nested = await carol.send(room["_id"], "reply to a reply", tmid=first["_id"])
    assert nested["tmid"] == parent["_id"]         # no nested threads
    got = await stored(alice, parent["_id"])
    assert got["tcount"] == 2 and got["tlm"] == nested["ts"]
    assert set(got["replies"]) == {alice.id, bob.id, carol.id}
    thread = await alice.ok("GET", "chat.getThreadMessages", tmid=parent["_id"])
    assert [m["msg"] for m in thread["messages"]] == ["reply one", "reply to a reply"] and thread["total"] == 2
    newest_first = await alice.ok("GET", "chat.getThreadMessages", tmid=parent["_id"], sort='{"ts":-1}', count=1)
    assert [m["msg"] for m in newest_first["messages"]] == ["reply to a reply"]
    ddp = await alice.ddp()
    result = (await ddp.call("getThreadMessages", {"tmid": parent["_id"]}))["result"]
    assert [m["_id"] for m in result] == [parent["_id"], nested["_id"], first["_id"]]


async def test_thread_replies_are_hidden_from_rest_history_unless_tshow(srv, alice, bob):
    room = await alice.channel("threads2", ("bob",))
    parent = await alice.send(room["_id"], "topic")
    await bob.send(room["_id"], "hidden reply", tmid=parent["_id"])
    await bob.send(room["_id"], "shown reply", tmid=parent["_id"], tshow=True)
    history = (await alice.ok("GET", "channels.history", roomId=room["_id"]))["messages"]
    texts = [m["msg"] for m in history if not m.get("t")]
    assert texts == ["shown reply", "topic"]
    everything = (await alice.ok("GET", "channels.history", roomId=room["_id"], showThreadMessages="true"))
    assert [m["msg"] for m in everything["messages"] if not m.get("t")] == ["shown reply", "hidden reply", "topic"]


async def test_threads_list_and_follow(srv, alice, bob, carol):
    room = await alice.channel("threads3", ("bob", "carol"))
    a = await alice.send(room["_id"], "thread a")
    b = await alice.send(room["_id"], "thread b")
    await bob.send(room["_id"], "on a", tmid=a["_id"])
    await bob.send(room["_id"], "on b", tmid=b["_id"])
    listed = await carol.ok("GET", "chat.getThreadsList", rid=room["_id"])
    assert [t["_id"] for t in listed["threads"]] == [b["_id"], a["_id"]] and listed["total"] == 2
    assert (await carol.ok("GET", "chat.getThreadsList", rid=room["_id"], type="following"))["threads"] == []
    await carol.ok("POST", "chat.followMessage", mid=a["_id"])
    following = await carol.ok("GET", "chat.getThreadsList", rid=room["_id"], type="following")
    assert [t["_id"] for t in following["threads"]] == [a["_id"]]
    assert [t["_id"] for t in (await carol.ok("GET", "chat.getThreadsList", rid=room["_id"], text="THREAD B"))[
        "threads"]] == [b["_id"]]
    await carol.ok("POST", "chat.unfollowMessage", mid=a["_id"])
    assert carol.id not in (await stored(alice, a["_id"]))["replies"]
    ddp = await carol.ddp()
    assert (await ddp.call("followMessage", {"mid": b["_id"]}))["result"] is True
    assert carol.id in (await stored(alice, b["_id"]))["replies"]


async def test_thread_reply_marks_followers_unread(srv, alice, bob):
    room = await alice.channel("threads4", ("bob",))
    parent = await alice.send(room["_id"], "question")
    await bob.send(room["_id"], "answer", tmid=parent["_id"])
    await settle(srv)
    sub = (await alice.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert parent["_id"] in sub.get("tunread", [])
    unread = await alice.ok("GET", "chat.getThreadsList", rid=room["_id"], type="unread")
    assert [t["_id"] for t in unread["threads"]] == [parent["_id"]]
