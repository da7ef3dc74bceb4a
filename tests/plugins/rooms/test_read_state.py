"""Subscriptions and read state: counters kept from `watch.messages`, subscriptions.get/read/unread,
rooms.get with deletions. Messages are announced on the broker as the messaging service does."""
from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from core.context import random_id
from tests.plugins.rooms.conftest import settle


def message(rid: str, sender, text: str = "hi", **extra):
    return {"_id": random_id(), "rid": rid, "msg": text, "ts": datetime.now(UTC),
            "u": {"_id": sender.id, "username": sender.username}, "_updatedAt": datetime.now(UTC), **extra}


async def send(srv, msg: dict, store: bool = True) -> dict:
    """What messaging does: store the message, then announce it."""
    if store:
        await srv.kernel.db["rocketchat_message"].insert_one(dict(msg))
    await srv.kernel.broker.emit("watch.messages", {"clientAction": "inserted", "message": msg})
    await settle(srv)   # counters are updated in the background
    return msg


async def sub_of(caller, rid: str) -> dict:
    return (await caller.ok("GET", "subscriptions.getOne", roomId=rid))["subscription"]


async def count_all_messages(srv) -> None:
    """The `all_messages` unread policy (Rocket.Chat's default is mentions only, see the test below)."""
    await srv.kernel.broker.call("settings.set", "Unread_Count", "all_messages")


async def test_default_policy_alerts_without_counting(srv, alice, bob, carol, events):
    """Rocket.Chat's default (`user_and_group_mentions_only`): a plain message alerts the other members
    without counting it; a mention counts. Once alerted, members are not touched by further plain
    messages: no subscription write, no `watch.subscriptions` event."""
    assert srv.kernel.settings.get("Unread_Count") == "user_and_group_mentions_only"
    rid = (await alice.ok("POST", "channels.create", name="quiet", members=["bob", "carol"]))["channel"]["_id"]
    await send(srv, message(rid, alice, "hello"))
    for other in (bob, carol):
        sub = await sub_of(other, rid)
        assert (sub["unread"], sub["alert"], sub["open"]) == (0, True, True)
    assert (await sub_of(alice, rid))["alert"] is False
    announced = len(events.of("watch.subscriptions"))
    for i in range(3):
        await send(srv, message(rid, alice, f"again {i}"))
    await settle(srv)
    assert len(events.of("watch.subscriptions")) == announced
    await send(srv, message(rid, alice, "@bob", mentions=[{"_id": bob.id, "username": "bob"}]))
    assert (await sub_of(bob, rid))["unread"] == 1 and (await sub_of(carol, rid))["unread"] == 0
    await bob.ok("POST", "subscriptions.read", rid=rid)
    await send(srv, message(rid, alice, "after reading"))
    sub = await sub_of(bob, rid)
    assert (sub["alert"], sub["unread"]) == (True, 0)
    await settle(srv)
    changed = [e["subscription"]["u"]["_id"] for e in events.of("watch.subscriptions")[announced:]]
    assert carol.id not in changed and bob.id in changed


async def test_message_updates_room_and_other_members(srv, alice, bob, carol, events):
    await count_all_messages(srv)
    room = (await alice.ok("POST", "channels.create", name="busy", members=["bob", "carol"]))["channel"]
    msg = await send(srv, message(room["_id"], alice, "hello"))
    info = (await bob.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    assert info["msgs"] == 1 and info["lastMessage"]["_id"] == msg["_id"] and info["lm"] == info["lastMessage"]["ts"]
    for other in (bob, carol):
        sub = await sub_of(other, room["_id"])
        assert (sub["unread"], sub["alert"], sub["userMentions"], sub["groupMentions"]) == (1, True, 0, 0)
    mine = await sub_of(alice, room["_id"])
    assert (mine["unread"], mine["alert"]) == (0, False)
    await settle(srv)
    changed = {e["subscription"]["u"]["_id"] for e in events.of("watch.subscriptions")
               if e["clientAction"] == "updated" and e["subscription"]["unread"] == 1}
    assert changed == {bob.id, carol.id}
    assert [e["room"]["msgs"] for e in events.of("watch.rooms")][-1] == 1


async def test_mentions(srv, alice, bob, carol):
    await count_all_messages(srv)
    room = (await alice.ok("POST", "channels.create", name="mentions", members=["bob", "carol"]))["channel"]
    rid = room["_id"]
    await send(srv, message(rid, alice, "@bob look", mentions=[{"_id": bob.id, "username": "bob"}]))
    assert (await sub_of(bob, rid))["userMentions"] == 1 and (await sub_of(bob, rid))["unread"] == 1
    assert (await sub_of(carol, rid))["userMentions"] == 0 and (await sub_of(carol, rid))["unread"] == 1
    await send(srv, message(rid, bob, "@all hey", mentions=[{"_id": "all", "username": "all"}]))
    alice_sub, carol_sub, bob_sub = (await sub_of(alice, rid), await sub_of(carol, rid), await sub_of(bob, rid))
    assert (alice_sub["groupMentions"], alice_sub["unread"]) == (1, 1)
    assert (carol_sub["groupMentions"], carol_sub["unread"]) == (1, 2)
    assert (bob_sub["groupMentions"], bob_sub["unread"]) == (0, 1)   # the sender is not counted
    await send(srv, message(rid, carol, "@here and @alice", mentions=[{"_id": "here"}, {"_id": alice.id}]))
    alice_sub = await sub_of(alice, rid)
    assert (alice_sub["userMentions"], alice_sub["groupMentions"], alice_sub["unread"]) == (1, 1, 2)
    assert (await sub_of(bob, rid))["groupMentions"] == 1


async def test_system_messages_only_count(srv, alice, bob):
    room = (await alice.ok("POST", "channels.create", name="sys", members=["bob"]))["channel"]
    await send(srv, message(room["_id"], bob, "bob", t="uj"))
    info = (await alice.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    assert info["msgs"] == 1 and "lastMessage" not in info
    assert (await sub_of(alice, room["_id"]))["unread"] == 0


async def test_thread_replies_mark_followers(srv, alice, bob, carol):
    room = (await alice.ok("POST", "channels.create", name="threads", members=["bob", "carol"]))["channel"]
    rid = room["_id"]
    parent = await send(srv, message(rid, alice, "parent"))
    await alice.ok("POST", "subscriptions.read", rid=rid)
    for caller in (bob, carol):
        await caller.ok("POST", "subscriptions.read", rid=rid)
    reply = await send(srv, message(rid, bob, "reply", tmid=parent["_id"]))
    alice_sub = await sub_of(alice, rid)
    assert alice_sub["tunread"] == [parent["_id"]] and alice_sub["alert"] is True and alice_sub["unread"] == 0
    assert "tunread" not in await sub_of(carol, rid)
    info = (await alice.ok("GET", "channels.info", roomId=rid))["channel"]
    assert info["msgs"] == 2 and info["lastMessage"]["_id"] == parent["_id"]   # thread-only replies
    await send(srv, message(rid, bob, "@carol see", tmid=parent["_id"], mentions=[{"_id": carol.id}]))
    carol_sub = await sub_of(carol, rid)
    assert carol_sub["tunread"] == [parent["_id"]] and carol_sub["tunreadUser"] == [parent["_id"]]
    await alice.ok("POST", "subscriptions.read", rid=rid)   # unread threads keep the alert
    alice_sub = await sub_of(alice, rid)
    assert alice_sub["alert"] is True and alice_sub["tunread"] == [parent["_id"]]
    await alice.ok("POST", "subscriptions.read", rid=rid, readThreads=True)
    alice_sub = await sub_of(alice, rid)
    assert alice_sub["alert"] is False and "tunread" not in alice_sub
    assert reply["tmid"] == parent["_id"]


async def test_subscriptions_read_clears_state(srv, alice, bob, events):
    room = (await alice.ok("POST", "channels.create", name="readme", members=["bob"]))["channel"]
    rid = room["_id"]
    await send(srv, message(rid, alice, "@bob", mentions=[{"_id": bob.id}]))
    await send(srv, message(rid, alice, "@all", mentions=[{"_id": "all"}]))
    before = await sub_of(bob, rid)
    assert (before["unread"], before["userMentions"], before["groupMentions"]) == (2, 1, 1)
    await bob.ok("POST", "subscriptions.read", rid=rid)
    after = await sub_of(bob, rid)
    assert (after["unread"], after["alert"], after["userMentions"], after["groupMentions"]) == (0, False, 0, 0)
    assert after["ls"] > before["_updatedAt"]
    await bob.ok("POST", "subscriptions.read", roomId=rid)
    await settle(srv)
    assert events.of("notify.messagesRead")[0]["rid"] == rid
    r = await bob.post("subscriptions.read", rid="no-such-room")
    assert r.status_code == 400


async def test_subscriptions_unread(srv, alice, bob):
    room = (await alice.ok("POST", "channels.create", name="unread", members=["bob"]))["channel"]
    rid = room["_id"]
    r = await bob.post("subscriptions.unread", roomId=rid)
    assert r.json()["errorType"] == "error-no-message-for-unread"
    first = await send(srv, message(rid, alice, "one"))
    await send(srv, message(rid, alice, "two"))
    await bob.ok("POST", "subscriptions.read", rid=rid)
    await bob.ok("POST", "subscriptions.unread", firstUnreadMessage={"_id": first["_id"]})
    sub = await sub_of(bob, rid)
    assert sub["alert"] is True and sub["unread"] == 2
    r = await alice.post("subscriptions.unread", firstUnreadMessage={"_id": first["_id"]})   # own message
    assert r.json()["errorType"] == "error-action-not-allowed"
    await bob.ok("POST", "subscriptions.read", rid=rid)
    await bob.ok("POST", "subscriptions.unread", roomId=rid)
    assert (await sub_of(bob, rid))["unread"] == 1


async def test_subscriptions_and_rooms_get_since(srv, alice, bob):
    keep = (await alice.ok("POST", "channels.create", name="keep", members=["bob"]))["channel"]
    gone = (await alice.ok("POST", "channels.create", name="gone", members=["bob"]))["channel"]
    left = (await alice.ok("POST", "channels.create", name="left", members=["bob"]))["channel"]
    full = await bob.ok("GET", "subscriptions.get")
    assert len(full["update"]) == 3 and full["remove"] == []
    since = (datetime.now(UTC) - timedelta(milliseconds=1)).isoformat().replace("+00:00", "Z")
    await asyncio.sleep(0.01)
    await alice.ok("POST", "channels.setTopic", roomId=keep["_id"], topic="changed")
    await alice.ok("POST", "channels.delete", roomId=gone["_id"])
    await bob.ok("POST", "channels.leave", roomId=left["_id"])
    await send(srv, message(keep["_id"], alice))
    subs = await bob.ok("GET", "subscriptions.get", updatedSince=since)
    assert [s["rid"] for s in subs["update"]] == [keep["_id"]]
    assert {s["_id"] for s in subs["remove"]} == {s["_id"] for s in full["update"] if s["rid"] != keep["_id"]}
    rooms = await bob.ok("GET", "rooms.get", updatedSince=since)
    assert [r["_id"] for r in rooms["update"]] == [keep["_id"]] and rooms["update"][0]["topic"] == "changed"
    assert [r["_id"] for r in rooms["remove"]] == [gone["_id"]]
    r = await bob.get("rooms.get", updatedSince="yesterday")
    assert r.status_code == 400 and r.json()["errorType"] == "error-updatedSince-param-invalid"
    everything = await bob.ok("GET", "rooms.get")
    assert [r["_id"] for r in everything["update"]] == [keep["_id"]] and everything["remove"] == []


async def test_counters_after_messages(srv, alice, bob):
    room = (await alice.ok("POST", "channels.create", name="count-me", members=["bob"]))["channel"]
    for text in ("a", "b", "c"):
        await send(srv, message(room["_id"], alice, text))
    body = await bob.ok("GET", "channels.counters", roomId=room["_id"])
    assert body["msgs"] == 3 and body["unreads"] == 3 and body["joined"] is True
    await bob.ok("POST", "subscriptions.read", rid=room["_id"])
    assert (await bob.ok("GET", "channels.counters", roomId=room["_id"]))["unreads"] == 0


async def test_direct_message_reopens_for_the_recipient(srv, alice, bob):
    room = (await alice.ok("POST", "im.create", username="bob"))["room"]
    assert (await sub_of(bob, room["_id"]))["open"] is False   # a 1:1 DM opens for its creator only
    await send(srv, message(room["_id"], alice, "ping"))
    sub = await sub_of(bob, room["_id"])
    assert sub["open"] is True and sub["unread"] == 1 and sub["alert"] is True


async def test_edit_of_last_message_refreshes_it(srv, alice, bob):
    room = (await alice.ok("POST", "channels.create", name="edits", members=["bob"]))["channel"]
    msg = await send(srv, message(room["_id"], alice, "tpyo"))
    edited = {**msg, "msg": "typo", "editedAt": datetime.now(UTC)}
    await srv.kernel.broker.emit("watch.messages", {"clientAction": "updated", "message": edited})
    await settle(srv)
    info = (await alice.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    assert info["lastMessage"]["msg"] == "typo" and info["msgs"] == 1


async def test_large_room_costs_a_few_bulk_writes(srv, alice):
    """Messages in a 300-member room: the sender never waits for the counting, which is done with a few
    bulk writes per batch of messages (never one write per member), bursts being counted together."""
    await count_all_messages(srv)
    room = (await alice.ok("POST", "channels.create", name="crowd"))["channel"]
    db = srv.kernel.db
    ts = datetime.now(UTC)
    users = [{"_id": f"u{i:04d}", "username": f"user{i:04d}", "name": f"User {i}", "active": True,
              "roles": ["user"], "type": "user", "createdAt": ts, "_updatedAt": ts} for i in range(300)]
    await db["users"].insert_many(users)
    await db["rocketchat_subscription"].insert_many([
        {"_id": random_id(), "rid": room["_id"], "u": {"_id": u["_id"], "username": u["username"]}, "t": "c",
         "ts": ts, "open": True, "alert": False, "unread": 0, "userMentions": 0, "groupMentions": 0,
         "_updatedAt": ts} for u in users])
    coll = type(db["rocketchat_subscription"])
    calls: list[str] = []
    originals = {name: getattr(coll, name) for name in ("update_one", "update_many", "find_one_and_update")}

    def counting(name):
        async def wrapper(self, *args, **kwargs):
            if self.name == "rocketchat_subscription":
                calls.append(name)
            return await originals[name](self, *args, **kwargs)
        return wrapper

    for name in originals:
        setattr(coll, name, counting(name))
    try:
        started = time.perf_counter()
        for i in range(10):
            msg = message(room["_id"], alice if i % 2 else users_caller(users[0]), f"burst {i}")
            await srv.kernel.broker.emit("watch.messages", {"clientAction": "inserted", "message": msg})
        emitted = time.perf_counter() - started
        await settle(srv)
    finally:
        for name, original in originals.items():
            setattr(coll, name, original)
    assert emitted < 0.5, emitted
    assert "update_one" not in calls and "find_one_and_update" not in calls
    assert 1 <= len(calls) <= 6, calls   # coalesced: far fewer bulk writes than messages
    assert await db["rocketchat_subscription"].count_documents({"rid": room["_id"], "unread": 10}) == 299
    assert (await db["rocketchat_subscription"].find_one({"u._id": "u0000"}))["unread"] == 5
    assert (await alice.ok("GET", "channels.info", roomId=room["_id"]))["channel"]["msgs"] == 10


def users_caller(user: dict):
    class Sender:
        id = user["_id"]
        username = user["username"]
    return Sender


async def test_many_members_alerted_by_index_sender_untouched(srv, alice):
    """Many members to alert: found through the (rid, alert) index and updated a few at a time (no write
    holds the database for long); the sender's own flags are left as they were."""
    room = (await alice.ok("POST", "channels.create", name="hall"))["channel"]
    db = srv.kernel.db
    ts = datetime.now(UTC)
    await db["rocketchat_subscription"].insert_many([
        {"_id": random_id(), "rid": room["_id"], "u": {"_id": f"m{i:03d}", "username": f"m{i:03d}"}, "t": "c",
         "ts": ts, "open": i % 2 == 0, "alert": False, "unread": 0, "_updatedAt": ts} for i in range(80)])
    await db["rocketchat_subscription"].update_one({"rid": room["_id"], "u._id": alice.id},
                                                   {"$set": {"alert": False, "open": False}})
    await send(srv, message(room["_id"], alice, "hello hall"))
    subs = {s["u"]["_id"]: s async for s in db["rocketchat_subscription"].find({"rid": room["_id"]})}
    assert all(s["alert"] is True and s["open"] is True for uid, s in subs.items() if uid != alice.id)
    assert (subs[alice.id]["alert"], subs[alice.id]["open"]) == (False, False)


async def test_unread_counts_skip_edit_history_and_system_messages(srv, alice, bob):
    """Counted over the room's time window (no `$ne` query, which the embedded database answers by a scan):
    edit-history copies never count, system messages count in `counters` but are never the unread start."""
    from datetime import UTC, datetime, timedelta
    room = (await alice.ok("POST", "channels.create", name="history", members=["bob"]))["channel"]
    rid = room["_id"]
    await bob.ok("POST", "subscriptions.read", rid=rid)
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    docs = [{"_id": "seen", "rid": rid, "msg": "visible", "ts": base, "u": {"_id": alice.id}},
            {"_id": "copy", "rid": rid, "msg": "old text", "ts": base + timedelta(seconds=1), "_hidden": True,
             "u": {"_id": alice.id}},
            {"_id": "sys", "rid": rid, "msg": "bob", "t": "uj", "ts": base + timedelta(seconds=2),
             "u": {"_id": bob.id}}]
    await srv.kernel.db["rocketchat_message"].insert_many(docs)
    await srv.kernel.db["rocketchat_room"].update_one({"_id": rid}, {"$set": {"lm": base + timedelta(seconds=3)}})
    await srv.kernel.broker.emit("watch.rooms", {"clientAction": "updated", "id": rid})
    body = await bob.ok("GET", "channels.counters", roomId=rid)
    assert body["unreads"] == 2                        # "seen" and the system message, not the copy
    await bob.ok("POST", "subscriptions.unread", roomId=rid)
    sub = await sub_of(bob, rid)
    assert sub["ls"] == base.strftime("%Y-%m-%dT%H:%M:%S.000Z")     # the last shown message: "seen"
    assert sub["unread"] == 1                          # from "seen" on, shown messages only
