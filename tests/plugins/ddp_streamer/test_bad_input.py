"""Hostile and malformed input on the streams: each answered with a DDP error, never a crashed handler."""
from __future__ import annotations

import itertools
import logging

from plugins.ddp_streamer.listeners import _guarded
from tests.plugins.ddp_streamer.conftest import event_of, logged_in

STREAMS = ("stream-notify-all", "stream-notify-logged", "stream-notify-user", "stream-notify-room",
           "stream-room-messages", "stream-user-presence", "stream-roles", "stream-apps", "stream-nope")
PARAMS = (None, 5, "x", {}, [], [None], [{}], [[]], [{"$ne": None}], ["", {"added": {"$gt": ""}}],
          ["x" * 100_000], ["R1/typing", {"useCollection": "yes", "args": 7}], ["__my_messages__", None, None],
          ["R1", True, {"extra": 1}], ["/"], ["//"], ["\u0000"], ["", {"added": [None], "removed": 3}])
WRITES = ([], [None], [{}], ["R1/typing"], ["R1/typing", None, None], ["R1/user-activity", "alice", None, None],
          ["R1/user-activity", "alice", ["user-typing"] * 50, {}], ["R1/user-activity", "alice", [], []],
          ["R1/user-activity", "alice", [], {"tmid": {"$ne": 1}}], ["/typing", "alice", True],
          ["R1/typing", "alice", True, True, True, True], ["x" * 100_000, "alice", True])


async def test_garbage_never_breaks_the_connection(srv, directory, caplog):
    alice = directory.add("alice")
    directory.allow(alice, "R1")
    clients = {"anonymous": await srv.ddp(), "alice": await logged_in(srv, alice)}
    caplog.set_level(logging.ERROR, logger="orbitchat")
    ids = itertools.count()
    for who, client in clients.items():
        for name, params in itertools.product(STREAMS, PARAMS):
            sid = f"g{next(ids)}"
            await client.send({"msg": "sub", "id": sid, "name": name, "params": params})
            reply = await client.expect(lambda m, sid=sid: m.get("id") == sid or sid in m.get("subs", [])
                                        or (m.get("msg") == "error" and m.get("offendingMessage", {}).get("id") == sid))
            assert reply["msg"] in ("ready", "nosub", "error"), (who, name, params, reply)
        for params in WRITES:
            reply = await client.call("stream-notify-room", *params)
            assert "error" in reply, (who, params, reply)
        await client.send({"msg": "unsub", "id": {"$ne": 1}})
        await client.send({"msg": "unsub"})
        await client.send({"msg": "ping", "id": "alive"})
        assert await client.expect(lambda m: m.get("msg") == "pong") == {"msg": "pong", "id": "alive"}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    # and the streams still work for a well-behaved subscriber
    c = clients["alice"]
    await c.sub("stream-notify-room", "R1/typing", False)
    await srv.kernel.broker.emit("user.activity", {"username": "bob", "rid": "R1", "activities": ["user-typing"]})
    assert (await c.expect(event_of("stream-notify-room", "R1/typing")))["fields"]["args"] == ["bob", True]


async def test_malformed_broker_events_are_ignored(srv, directory, caplog):
    """Events come from other services (and other processes); a bad one is dropped, not fatal."""
    alice = directory.add("alice")
    c = await logged_in(srv, alice)
    await c.sub("stream-notify-logged", "user-status", False)
    caplog.set_level(logging.ERROR, logger="orbitchat")
    plugin = next(p for n, p in srv.kernel.selection.plugins if n == "ddp_streamer")
    for event, handler in plugin.listeners.handlers().items():
        for payload in (None, {}, [], "x", 5, {"user": "x", "message": [], "room": 3, "subscription": "s",
                                                "setting": 1, "uid": {}, "rid": ["a"], "userId": 7, "id": []},
                        {"user": {"_id": 1}, "message": {"rid": 5}, "room": {"_id": {}},
                         "subscription": {"u": "x"}, "setting": {"_id": []}}):
            _guarded(event, handler)(payload)
    await plugin.service.worker.drain()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    await srv.kernel.broker.emit("presence.status", {"user": {"_id": "u1", "username": "x", "status": "away"}})
    assert (await c.expect(event_of("stream-notify-logged", "user-status")))["fields"]["args"][0][2] == 2
