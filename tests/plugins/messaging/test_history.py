"""History and listings: *.history, *.messages, *.files, DDP load* methods, search and sync, and proof that a
page of a large room is read as a bounded window."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.context import random_id
from tests.plugins.messaging.conftest import settle

BASE = datetime(2024, 3, 1, tzinfo=UTC)


async def seed(srv: Any, room: dict, user: Any, n: int, gap: timedelta = timedelta(seconds=30),
               start: datetime = BASE, text: str = "m") -> list[dict]:
    """Insert `n` messages straight into the collection (as an import would) and update the room's
    counters the way the rooms service keeps them."""
    docs = [{"_id": random_id(), "rid": room["_id"], "msg": f"{text}{i}", "ts": start + gap * i,
             "u": {"_id": user.id, "username": user.username}, "_updatedAt": start + gap * i,
             "mentions": [], "channels": []} for i in range(n)]
    db = srv.kernel.db
    for i in range(0, n, 1000):
        await db["rocketchat_message"].insert_many(docs[i:i + 1000])
    await db["rocketchat_room"].update_one({"_id": room["_id"]}, {"$set": {"ts": start - timedelta(minutes=1),
                                                                           "lm": docs[-1]["ts"], "msgs": n}})
    return docs


def texts(messages: list[dict]) -> list[str]:
    return [m["msg"] for m in messages if not m.get("t")]


async def test_history_pages_newest_first_like_rocketchat_api(srv, alice):
    room = await alice.channel("paged")
    await seed(srv, room, alice, 120)
    first = await alice.ok("GET", "channels.history", roomId=room["_id"])
    assert texts(first["messages"]) == [f"m{i}" for i in range(119, 99, -1)]     # default count 20
    seen: list[str] = []
    offset = 0
    while True:   # what rocketchat_API's @paginated does: offset += count until a short page
        page = (await alice.ok("GET", "channels.history", roomId=room["_id"], offset=offset, count=50))["messages"]
        seen += texts(page)
        if len(page) < 50:
            break
        offset += 50
    assert seen == [f"m{i}" for i in range(119, -1, -1)]


async def test_history_latest_oldest_inclusive_and_unreads(srv, alice):
    room = await alice.channel("ranges")
    docs = await seed(srv, room, alice, 40)
    latest, oldest = docs[30]["ts"].isoformat(), docs[10]["ts"].isoformat()
    got = await alice.ok("GET", "channels.history", roomId=room["_id"], latest=latest, oldest=oldest, count=100)
    assert texts(got["messages"]) == [f"m{i}" for i in range(29, 10, -1)]
    got = await alice.ok("GET", "channels.history", roomId=room["_id"], latest=latest, oldest=oldest,
                         inclusive="true", count=100)
    assert texts(got["messages"]) == [f"m{i}" for i in range(30, 9, -1)]
    got = await alice.ok("GET", "channels.history", roomId=room["_id"], oldest=oldest, count=5, unreads="true")
    assert texts(got["messages"]) == ["m39", "m38", "m37", "m36", "m35"]
    assert got["firstUnread"]["msg"] == "m11" and got["unreadNotLoaded"] == 24


async def test_group_and_direct_history_need_membership(srv, alice, bob, carol):
    group = await alice.group("hist-private", ("bob",))
    await alice.send(group["_id"], "for members")
    assert texts((await bob.ok("GET", "groups.history", roomId=group["_id"]))["messages"]) == ["for members"]
    body = await carol.fails("GET", "groups.history", roomId=group["_id"])
    assert body["errorType"] == "error-room-not-found"
    by_name = await bob.ok("GET", "groups.history", roomName="hist-private")
    assert texts(by_name["messages"]) == ["for members"]
    dm = await alice.ok("POST", "chat.postMessage", channel="@bob", text="just us")
    rid = dm["message"]["rid"]
    for path in ("im.history", "dm.history"):
        assert texts((await bob.ok("GET", path, roomId=rid))["messages"]) == ["just us"]
    assert texts((await alice.ok("GET", "im.history", username="bob"))["messages"]) == ["just us"]
    body = await carol.fails("GET", "dm.history", roomId=rid)
    assert body["errorType"] == "error-room-not-found"
    body = await carol.fails("GET", "channels.history", roomId=group["_id"])
    assert body["errorType"] == "error-room-not-found"


async def test_channel_messages_listing_filters_and_total(srv, alice, bob):
    room = await alice.channel("listing", ("bob",))
    a = await alice.send(room["_id"], "hello @bob")
    b = await bob.send(room["_id"], "hi alice")
    c = await alice.send(room["_id"], "third")
    await bob.ok("POST", "chat.starMessage", messageId=c["_id"])
    await alice.ok("POST", "chat.pinMessage", messageId=b["_id"])
    await settle(srv)
    listed = await alice.ok("GET", "channels.messages", roomId=room["_id"], count=2)
    assert listed["count"] == 2 and listed["offset"] == 0 and listed["total"] >= 4
    ascending = await alice.ok("GET", "channels.messages", roomId=room["_id"], sort='{"ts":1}', count=100)
    assert texts(ascending["messages"]) == ["hello @bob", "hi alice", "third"]
    mentioned = await alice.ok("GET", "channels.messages", roomId=room["_id"], mentionIds=bob.id)
    assert [m["_id"] for m in mentioned["messages"]] == [a["_id"]]
    starred = await alice.ok("GET", "channels.messages", roomId=room["_id"], starredIds=bob.id)
    assert [m["_id"] for m in starred["messages"]] == [c["_id"]]
    pinned = await alice.ok("GET", "channels.messages", roomId=room["_id"], pinned="true")
    assert [m["_id"] for m in pinned["messages"]] == [b["_id"]]
    by_bob = await alice.ok("GET", "channels.messages", roomId=room["_id"], query='{"u.username":"bob"}')
    assert [m["_id"] for m in by_bob["messages"]] == [b["_id"]]
    slim = await alice.ok("GET", "channels.messages", roomId=room["_id"], fields='{"msg":1}', count=1)
    assert set(slim["messages"][0]) == {"_id", "msg"}
    assert (await bob.ok("GET", "chat.getMentionedMessages", roomId=room["_id"]))["total"] == 1
    group = await alice.group("listing-private")
    await alice.send(group["_id"], "secret")
    assert texts((await alice.ok("GET", "groups.messages", roomId=group["_id"]))["messages"]) == ["secret"]
    await bob.fails("GET", "groups.messages", roomId=group["_id"])


async def test_files_lists_messages_with_a_file(srv, alice):
    room = await alice.channel("files")
    await alice.send(room["_id"], "no file")
    ts = datetime.now(UTC)
    await srv.kernel.db["rocketchat_message"].insert_one(
        {"_id": "filemsg", "rid": room["_id"], "msg": "", "ts": ts, "_updatedAt": ts,
         "u": {"_id": alice.id, "username": "alice"},
         "file": {"_id": "F1", "name": "report.pdf", "type": "application/pdf", "size": 1234}})
    listed = await alice.ok("GET", "channels.files", roomId=room["_id"])
    assert listed["total"] == 1
    f = listed["files"][0]
    assert f["_id"] == "F1" and f["name"] == "report.pdf" and f["typeGroup"] == "application"
    assert f["url"] == "/file-upload/F1/report.pdf" and f["userId"] == alice.id


async def test_ddp_load_history_and_friends(srv, alice, bob):
    room = await alice.channel("ddp-history")
    docs = await seed(srv, room, alice, 30)
    ddp = await alice.ddp()
    result = (await ddp.call("loadHistory", room["_id"], None, 10, None))["result"]
    assert texts(result["messages"]) == [f"m{i}" for i in range(29, 19, -1)] and result["unreadNotLoaded"] == 0
    result = (await ddp.call("loadHistory", room["_id"], docs[20]["ts"], 5, docs[5]["ts"]))["result"]
    assert texts(result["messages"]) == ["m19", "m18", "m17", "m16", "m15"]
    assert result["firstUnread"]["msg"] == "m6" and result["unreadNotLoaded"] == 9
    nxt = (await ddp.call("loadNextMessages", room["_id"], docs[25]["ts"], 3))["result"]
    assert texts(nxt["messages"]) == ["m26", "m27", "m28"]
    around = (await ddp.call("loadSurroundingMessages", {"_id": docs[10]["_id"], "rid": room["_id"]}, 5))["result"]
    assert texts(around["messages"]) == ["m9", "m8", "m10", "m11", "m12"]
    assert around["moreBefore"] is True and around["moreAfter"] is True
    missed = (await ddp.call("loadMissedMessages", room["_id"], docs[27]["ts"]))["result"]
    assert texts(missed) == ["m29", "m28"]
    group = await bob.group("ddp-private")
    assert (await ddp.call("loadHistory", group["_id"]))["result"] is False
    assert (await ddp.call("loadHistory", {"$ne": None}))["error"]["error"] == "error-invalid-params"


async def test_a_page_of_a_large_room_reads_one_small_window(srv, alice):
    room = await alice.channel("big")
    await seed(srv, room, alice, 3000)
    scanner = srv.kernel.pm.get_plugin("messaging").service.queries.scanner
    windows, read = scanner.windows, scanner.read
    got = await alice.ok("GET", "channels.history", roomId=room["_id"], count=50)
    assert texts(got["messages"])[:2] == ["m2999", "m2998"] and len(got["messages"]) == 50
    assert scanner.windows - windows <= 2 and scanner.read - read <= 150
    ddp = await alice.ddp()
    windows, read = scanner.windows, scanner.read
    result = (await ddp.call("loadHistory", room["_id"], None, 50))["result"]
    assert len(result["messages"]) == 50 and scanner.read - read <= 150
    # deep in the past too: a page before message 1000 reads around it, not the 2000 newer ones
    docs = await srv.kernel.db["rocketchat_message"].find({"rid": room["_id"], "msg": "m1000"}).to_list(None)
    read = scanner.read
    result = (await ddp.call("loadHistory", room["_id"], docs[0]["ts"], 50))["result"]
    assert texts(result["messages"])[0] == "m999" and scanner.read - read <= 150


async def test_a_room_without_statistics_still_pages_correctly(srv, alice):
    room = await alice.channel("no-stats")
    await seed(srv, room, alice, 200, gap=timedelta(hours=7))
    await srv.kernel.db["rocketchat_room"].update_one({"_id": room["_id"]}, {"$unset": {"lm": "", "msgs": ""}})
    got = await alice.ok("GET", "channels.history", roomId=room["_id"], count=100, offset=50)
    assert texts(got["messages"]) == [f"m{i}" for i in range(149, 49, -1)]


async def test_search(srv, alice, bob):
    room = await alice.channel("searching", ("bob",))
    await alice.send(room["_id"], "The quick brown fox")
    await bob.send(room["_id"], "a lazy dog")
    pinned = await bob.send(room["_id"], "quick question (.*)")
    await alice.ok("POST", "chat.pinMessage", messageId=pinned["_id"])

    async def search(text: str) -> list[str]:
        return texts((await alice.ok("GET", "chat.search", roomId=room["_id"], searchText=text))["messages"])

    assert await search("QUICK") == ["quick question (.*)", "The quick brown fox"]
    assert await search("quick from:bob") == ["quick question (.*)"]
    assert await search("from:me") == ["The quick brown fox"]
    assert await search("is:pinned") == ["quick question (.*)"]
    assert await search("(.*)") == ["quick question (.*)"]          # literal, never a client pattern
    assert await search("/^a.*dog$/") == []                          # a /regex/ is searched as text
    assert await search("nothing like this") == []
    group = await bob.group("search-private")
    await bob.send(group["_id"], "quick secret")
    body = await alice.fails("GET", "chat.search", roomId=group["_id"], searchText="quick")
    assert body["errorType"] == "error-not-allowed"


async def test_sync_messages(srv, alice, bob):
    room = await alice.channel("syncing", ("bob",))
    keep = await alice.send(room["_id"], "kept")
    gone = await alice.send(room["_id"], "deleted later")
    mark = datetime.now(UTC)
    await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=keep["_id"], text="kept, edited")
    await alice.ok("POST", "chat.delete", roomId=room["_id"], msgId=gone["_id"])
    fresh = await bob.send(room["_id"], "new one")
    result = (await bob.ok("GET", "chat.syncMessages", roomId=room["_id"], lastUpdate=mark.isoformat()))["result"]
    assert {m["_id"] for m in result["updated"]} == {keep["_id"], fresh["_id"]}
    assert [d["_id"] for d in result["deleted"]] == [gone["_id"]]
    cursor = (await bob.ok("GET", "chat.syncMessages", roomId=room["_id"], type="UPDATED",
                           next=str(int(mark.timestamp() * 1000)), count=1))["result"]
    assert [m["_id"] for m in cursor["updated"]] == [keep["_id"]] and cursor["cursor"]["next"]
    after = (await bob.ok("GET", "chat.syncMessages", roomId=room["_id"], type="UPDATED",
                          next=cursor["cursor"]["next"]))["result"]
    assert [m["_id"] for m in after["updated"]] == [fresh["_id"]]
    body = await bob.fails("GET", "chat.syncMessages", roomId=room["_id"])
    assert body["errorType"] == "error-param-required"
    ddp = await bob.ddp()
    got = (await ddp.call("messages/get", room["_id"], {"lastUpdate": mark}))["result"]
    assert {m["_id"] for m in got["updated"]} == {keep["_id"], fresh["_id"]}


async def test_equal_timestamps_and_imported_older_messages_page_without_gaps(srv, alice):
    room = await alice.channel("bursts")
    docs = []
    for i in range(300):   # bursts of ten messages sharing one timestamp
        ts = BASE + timedelta(seconds=7) * (i // 10)
        docs.append({"_id": f"b{i:04d}", "rid": room["_id"], "msg": f"m{i}", "ts": ts, "_updatedAt": ts,
                     "u": {"_id": alice.id, "username": "alice"}})
    older = BASE - timedelta(days=400)   # imported from before the room existed
    docs += [{"_id": f"o{i}", "rid": room["_id"], "msg": f"old{i}", "ts": older + timedelta(minutes=i),
              "_updatedAt": older, "u": {"_id": alice.id, "username": "alice"}} for i in range(3)]
    db = srv.kernel.db
    await db["rocketchat_message"].insert_many(docs)
    await db["rocketchat_room"].update_one({"_id": room["_id"]}, {"$set": {
        "ts": BASE, "lm": docs[299]["ts"], "msgs": 303}})
    seen: list[str] = []
    for offset in range(0, 400, 37):
        page = (await alice.ok("GET", "channels.history", roomId=room["_id"], offset=offset, count=37))["messages"]
        seen += [m["msg"] for m in page if not m.get("t")]
    assert len(seen) == len(set(seen)) == 303
    assert seen[-3:] == ["old2", "old1", "old0"]
    ddp = await alice.ddp()
    result = (await ddp.call("loadNextMessages", room["_id"], None, 5))["result"]
    first = texts(result["messages"])
    assert first[:3] == ["old0", "old1", "old2"] and len(first) == 5    # m0..m9 share one timestamp
