"""Client stream writes: typing / user-activity checked, relayed to the room, not echoed, rate limited."""
from __future__ import annotations

import pytest

from tests.plugins.ddp_streamer.conftest import Directory, event_of, logged_in

OPTS = {"useCollection": False, "args": []}


async def two_in_a_room(srv, directory: Directory):
    alice, bob = directory.add("alice"), directory.add("bob")
    for p in (alice, bob):
        directory.allow(p, "R1")
    a, b = await logged_in(srv, alice), await logged_in(srv, bob)
    for c in (a, b):
        await c.sub("stream-notify-room", "R1/user-activity", OPTS)
        await c.sub("stream-notify-room", "R1/typing", OPTS)
    return alice, bob, a, b


async def test_typing_is_relayed_as_both_events_and_not_echoed(srv, directory):
    _, _, a, b = await two_in_a_room(srv, directory)
    reply = await a.call("stream-notify-room", "R1/user-activity", "alice", ["user-typing"], {"tmid": "T1"})
    assert "error" not in reply
    got = await b.expect(event_of("stream-notify-room", "R1/user-activity"))
    assert got["fields"]["args"] == ["alice", ["user-typing"], {"tmid": "T1"}]
    got = await b.expect(event_of("stream-notify-room", "R1/typing"))
    assert got["fields"]["args"] == ["alice", True]
    # legacy write, stop typing
    assert "error" not in await a.call("stream-notify-room", "R1/typing", "alice", False)
    assert (await b.expect(event_of("stream-notify-room", "R1/user-activity")))["fields"]["args"] == ["alice", [], {}]
    assert (await b.expect(event_of("stream-notify-room", "R1/typing")))["fields"]["args"] == ["alice", False]
    with pytest.raises(TimeoutError):
        await a.expect(event_of("stream-notify-room"), timeout=0.3)


async def test_writes_are_checked(srv, directory):
    alice, _, a, b = await two_in_a_room(srv, directory)
    carol = directory.add("carol")
    c = await logged_in(srv, carol)
    bad = [
        (a, ["R1/user-activity", "bob", ["user-typing"], {}], "not-allowed"),        # someone else's name
        (c, ["R1/user-activity", "carol", ["user-typing"], {}], "not-allowed"),      # no access to the room
        (a, ["R1/deleteMessage", {"_id": "x"}], "not-allowed"),                      # not writable
        (a, ["R1/user-activity", "alice", ["hacking"], {}], "invalid-params"),
        (a, ["R1/user-activity", "alice", "user-typing", {}], "invalid-params"),
        (a, ["R1/typing", "alice", "yes"], "invalid-params"),
        (a, ["R1/user-activity", {"$ne": None}, [], {}], "invalid-params"),
        (a, [42, "alice", True], "error-invalid-params"),
        (a, [], "error-invalid-params"),
    ]
    for client, params, code in bad:
        reply = await client.call("stream-notify-room", *params)
        assert reply["error"]["error"] == code, (params, reply)
    anon = await srv.ddp()
    assert (await anon.call("stream-notify-room", "R1/typing", "alice", True))["error"]["error"] == 401
    with pytest.raises(TimeoutError):
        await b.expect(event_of("stream-notify-room"), timeout=0.3)
    assert (await a.call("stream-notify-user", f"{alice.id}/webrtc", {}))["error"]["error"] == 404


async def test_flood_of_stream_events_is_rate_limited_per_connection(server_factory):
    directory = Directory()
    srv = await server_factory(plugins=("settings", directory, "ddp_streamer"),
                               env={"DDP_Rate_Limit_Stream_Events_Calls": "5"})
    _, _, a, b = await two_in_a_room(srv, directory)
    replies = [await a.call("stream-notify-room", "R1/typing", "alice", True) for _ in range(8)]
    errors = [r["error"] for r in replies if "error" in r]
    assert len(errors) == 3
    assert errors[0]["error"] == "too-many-requests" and errors[0]["details"]["timeToReset"] > 0
    # another connection of another user is not affected, and the flooder is still connected
    assert "error" not in await b.call("stream-notify-room", "R1/typing", "bob", True)
    assert (await a.call("stream-notify-room", "R1/typing", "alice", True))["error"]["error"] == "too-many-requests"
    assert not a.closed.done()
