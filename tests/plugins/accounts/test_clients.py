"""Real Rocket.Chat client libraries from PyPI against a running server: `rocketchat-api` (REST, sync, run in
a worker thread while the server keeps serving in the test's event loop) and `rocketchat-async` (DDP)."""
from __future__ import annotations

import asyncio

import pytest

from tests.users import create_user


def rest_client_flow(base_url: str) -> dict:
    """What an admin script does: log in, read me, create a user, log in as that user, log out."""
    from rocketchat_API.APIExceptions.RocketExceptions import (
        RocketApiException,
        RocketAuthenticationException,
    )
    from rocketchat_API.rocketchat import RocketChat

    out: dict = {}
    admin = RocketChat("boss", "boss-pw", server_url=base_url)
    out["me"] = admin.me()
    out["created"] = admin.users_create(email="zoe@example.org", name="Zoe", password="zoe-pw", username="zoe")
    zoe = RocketChat("zoe", "zoe-pw", server_url=base_url)
    out["zoe_me"] = zoe.me()
    out["zoe_info"] = zoe.users_info(username="boss")
    out["users"] = [u["username"] for u in admin.users_list(count=2)]
    out["logout"] = zoe.logout()
    try:
        zoe.me()
        out["after_logout"] = 200
    except RocketApiException as exc:
        out["after_logout"] = exc.status_code
    try:
        RocketChat("zoe", "wrong", server_url=base_url)
        out["bad_login"] = "accepted"
    except RocketAuthenticationException:
        out["bad_login"] = "refused"
    return out


async def test_rocketchat_api_client(full_server):
    srv = full_server
    await create_user(srv, "boss", roles=("admin", "user"), password="boss-pw")
    out = await asyncio.to_thread(rest_client_flow, srv.base_url)
    assert out["me"]["username"] == "boss" and out["me"]["success"] is True
    assert out["created"]["success"] is True and out["created"]["user"]["username"] == "zoe"
    assert out["zoe_me"]["username"] == "zoe"
    assert out["zoe_info"]["user"]["username"] == "boss"
    assert out["logout"]["status"] == "success"
    assert out["after_logout"] == 401
    assert sorted(out["users"]) == ["admin", "boss", "rocket.cat", "zoe"]  # pages of 2, offset honoured
    assert out["bad_login"] == "refused"


async def test_rocketchat_async_client_logs_in_over_websocket(accounts_server):
    import rocketchat_async as rc_async
    srv = accounts_server
    amy = await create_user(srv, "amy", password="amy-pw")
    rc = rc_async.RocketChat()
    await asyncio.wait_for(rc.start(srv.ws_url, "amy", "amy-pw"), 10)
    assert rc.user_id == amy.id
    conn = next(c for c in srv.kernel.ddp.connections.values() if c.user_id == amy.id)
    assert conn.user["username"] == "amy"
    # Resume with a token, as a bot restarting would.
    rc2 = rc_async.RocketChat()
    await asyncio.wait_for(rc2.resume(srv.ws_url, "amy", amy.token), 10)
    assert rc2.user_id == amy.id
    bad = rc_async.RocketChat()
    with pytest.raises(Exception) as info:
        await asyncio.wait_for(bad.start(srv.ws_url, "amy", "wrong"), 10)
    assert "credentials" in str(info.value).lower() or "403" in str(info.value)
    for client in (rc, rc2, bad):
        client._ws_connection_task.cancel()
        client.dispatch_task.cancel()
