"""Accounts together with the presence and ddp_streamer services: status through presence, DDP logout closing
its own socket after the result, a REST logout closing the sockets resumed with the revoked token."""
from __future__ import annotations

import asyncio

from tests.users import create_user


async def test_with_presence_and_ddp_streamer(server_factory):
    srv = await server_factory(plugins=("settings", "accounts", "authorization", "presence", "ddp_streamer"))
    u = await create_user(srv, "combo", password="pw")
    other = await srv.ddp()
    assert (await other.login(u.token))["result"]["id"] == u.id
    ddp = await srv.ddp()
    res = await ddp.call("login", {"user": {"username": "combo"}, "password": "pw"})
    assert res["result"]["id"] == u.id
    r = await srv.http.post("/api/v1/users.setStatus", headers=u.headers, json={"status": "away"})
    assert r.status_code == 200, r.text
    r = await srv.http.get("/api/v1/users.getPresence", headers=u.headers)
    assert r.json()["presence"] == "away" and r.json()["connectionStatus"] == "online"
    out = await ddp.call("logout")
    assert "error" not in out
    assert await asyncio.wait_for(ddp.closed, 5) == 1002
    # REST logout of the token the other socket resumed with closes that socket
    await srv.http.post("/api/v1/logout", headers=u.headers, json={})
    assert await asyncio.wait_for(other.closed, 5) == 1002
