"""Logout and forced logout close the right sockets; `stream-user-presence` watches sets of users."""
from __future__ import annotations

import asyncio

import pytest

from core.security import hash_token
from tests.plugins.ddp_streamer.conftest import event_of, logged_in


async def test_force_logout_sends_the_event_then_closes_matching_sockets(srv, directory):
    alice, bob = directory.add("alice"), directory.add("bob")
    a1, a2, b = await logged_in(srv, alice), await logged_in(srv, alice), await logged_in(srv, bob)
    await a1.sub("stream-notify-user", f"{alice.id}/force_logout", False)
    await srv.kernel.broker.emit("user.forceLogout", {"userId": alice.id, "tokenHashes": ["other-token"]})
    await asyncio.sleep(0.2)
    assert not a1.closed.done()   # not the token being revoked
    await srv.kernel.broker.emit("user.forceLogout", {"userId": alice.id})
    got = await a1.expect(event_of("stream-notify-user", f"{alice.id}/force_logout"))
    assert got["fields"]["args"] == []
    assert await asyncio.wait_for(a1.closed, 5) == 1002
    assert await asyncio.wait_for(a2.closed, 5) == 1002
    assert "error" not in await b.call("login", {"resume": bob.token})


async def test_revoked_token_closes_its_sockets_but_not_the_caller(srv, directory):
    alice = directory.add("alice")
    caller, other = await logged_in(srv, alice), await logged_in(srv, alice)
    conns = {c.id: c for c in srv.kernel.ddp.connections.values()}
    await srv.kernel.broker.emit("accounts.logout", {"userId": alice.id, "connectionId": caller.session,
                                                     "tokenHash": hash_token(alice.token)})
    assert await asyncio.wait_for(other.closed, 5) == 1002
    await asyncio.sleep(0.1)
    assert not caller.closed.done() and conns[caller.session].closing is None


async def test_disconnect_always_emits_socket_disconnected(srv, directory):
    seen = []
    await srv.kernel.broker.subscribe("socket.disconnected", seen.append)
    alice = directory.add("alice")
    c = await logged_in(srv, alice)
    anon = await srv.ddp()
    await c.close()
    await anon.close()
    for _ in range(50):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.05)
    assert {(e["connectionId"], e["userId"]) for e in seen} == {(c.session, alice.id), (anon.session, None)}


def presence_of(uid: str):
    return lambda m: m.get("msg") == "changed" and m.get("collection") == "stream-user-presence" \
        and m.get("id") == uid


async def test_user_presence_subscription_semantics(srv, directory):
    alice, bob, carol = directory.add("alice"), directory.add("bob"), directory.add("carol")
    c = await logged_in(srv, alice)
    main = await c.sub("stream-user-presence", "", {"added": [bob.id], "useCollection": False})
    assert main["msg"] == "ready"
    more = await c.sub("stream-user-presence", "", {"added": [carol.id], "removed": [bob.id]})
    assert more["msg"] == "nosub" and "error" not in more

    async def status(p, value: str, text: str = "") -> None:
        await srv.kernel.broker.emit("presence.status", {"user": {"_id": p.id, "username": p.username,
                                                                  "status": value, "statusText": text}})
    await status(bob, "online")
    await status(carol, "away", "brb")
    got = await c.expect(presence_of(carol.id))
    assert got["fields"] == {"uid": carol.id, "args": [["carol", 2, "brb"]], "eventName": carol.id}
    with pytest.raises(TimeoutError):
        await c.expect(presence_of(bob.id), timeout=0.3)
    # stopping the main subscription stops everything; a new one starts from an empty set
    await c.send({"msg": "unsub", "id": main["_sub_id"]})
    await c.expect(lambda m: m.get("msg") == "nosub" and m.get("id") == main["_sub_id"])
    await status(carol, "busy")
    with pytest.raises(TimeoutError):
        await c.expect(presence_of(carol.id), timeout=0.3)
    again = await c.sub("stream-user-presence", "", {"added": [bob.id]})
    assert again["msg"] == "ready"
    await status(carol, "online")
    await status(bob, "busy")
    assert (await c.expect(presence_of(bob.id)))["fields"]["args"] == [["bob", 3, ""]]
    with pytest.raises(TimeoutError):
        await c.expect(presence_of(carol.id), timeout=0.2)


async def test_user_presence_bad_params(srv, directory):
    c = await logged_in(srv, directory.add("alice"))
    for options in ({"added": "x"}, {"added": [1]}, {"removed": [{"$ne": 1}]}, {"added": ["x" * 500]}):
        reply = await c.sub("stream-user-presence", "", options)
        assert reply["msg"] == "nosub" and reply["error"]["error"] == "invalid-params", options
    assert (await c.sub("stream-user-presence", "", False))["msg"] == "ready"   # legacy: no watched set


async def test_presence_watchers_are_released_when_the_socket_closes(srv, directory):
    alice, bob = directory.add("alice"), directory.add("bob")
    c = await logged_in(srv, alice)
    await c.sub("stream-user-presence", "", {"added": [bob.id]})
    svc = next(p for n, p in srv.kernel.selection.plugins if n == "ddp_streamer").service
    assert svc.presence.watched_by(bob.id) == 1
    await c.close()
    for _ in range(50):
        if svc.presence.watched_by(bob.id) == 0:
            break
        await asyncio.sleep(0.05)
    assert svc.presence.watched_by(bob.id) == 0
