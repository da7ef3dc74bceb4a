"""DDP `login` / `logout` over a real websocket."""
from __future__ import annotations

import asyncio
import hashlib

from tests.users import create_user

LOGGED_OUT = "You've been logged out by the server. Please log in again."


def sha(p: str) -> str:
    return hashlib.sha256(p.encode()).hexdigest()


async def test_login_with_digest_publishes_user_and_emits_event(accounts_server):
    srv = accounts_server
    alice = await create_user(srv, "alice", password="pw-a")
    events = []
    await srv.kernel.broker.subscribe("accounts.login", events.append)
    ddp = await srv.ddp()
    res = await ddp.call("login", {"user": {"username": "alice"},
                                   "password": {"digest": sha("pw-a"), "algorithm": "sha-256"}})
    assert "error" not in res, res
    result = res["result"]
    assert result["id"] == alice.id and result["type"] == "password"
    assert isinstance(result["token"], str) and len(result["token"]) >= 40
    assert "tokenExpires" in result   # decoded from {"$date": ms}
    added = await ddp.expect(lambda m: m.get("msg") == "added" and m.get("collection") == "users")
    assert added["id"] == alice.id and added["fields"]["username"] == "alice"
    assert "services" not in added["fields"]
    assert events == [{"userId": alice.id, "connectionId": srv.kernel.ddp.connections[ddp.session].id}]
    # The token works for REST too.
    r = await srv.http.get("/api/v1/me", headers={"X-User-Id": alice.id, "X-Auth-Token": result["token"]})
    assert r.status_code == 200


async def test_login_with_email_plain_password_and_resume(accounts_server):
    srv = accounts_server
    bob = await create_user(srv, "bob", password="pw-b")
    ddp = await srv.ddp()
    res = await ddp.call("login", {"user": {"email": "bob@example.org"}, "password": "pw-b"})
    assert res["result"]["id"] == bob.id
    ddp2 = await srv.ddp()
    res = await ddp2.call("login", {"resume": bob.token})
    assert res["result"] == {**res["result"], "id": bob.id, "token": bob.token, "type": "resume"}
    res = await ddp2.call("login", {"user": {"id": bob.id}, "password": {"digest": sha("pw-b"),
                                                                        "algorithm": "sha-256"}})
    assert res["result"]["id"] == bob.id


async def test_login_failures(accounts_server):
    srv = accounts_server
    await create_user(srv, "carol", password="pw-c")
    ddp = await srv.ddp()
    wrong = await ddp.call("login", {"user": {"username": "carol"}, "password": {"digest": sha("x"),
                                                                                  "algorithm": "sha-256"}})
    unknown = await ddp.call("login", {"user": {"username": "zed"}, "password": {"digest": sha("x"),
                                                                                 "algorithm": "sha-256"}})
    assert wrong["error"]["error"] == unknown["error"]["error"] == 403
    assert wrong["error"]["reason"] == unknown["error"]["reason"]
    bad = await ddp.call("login", {"resume": "no-such-token"})
    assert bad["error"]["error"] == 403 and bad["error"]["reason"] == LOGGED_OUT
    inj = await ddp.call("login", {"user": {"username": {"$ne": None}}, "password": "x"})
    assert inj["error"]["error"] == "error-invalid-params"
    unknown_kind = await ddp.call("login", {"foo": "bar"})
    assert unknown_kind["error"]["error"] == 400
    # Still anonymous: an authenticated method is refused.
    assert (await ddp.call("logout"))["msg"] == "result"


async def test_logout_revokes_token_and_closes_socket(accounts_server):
    srv = accounts_server
    dave = await create_user(srv, "dave")
    events = []
    await srv.kernel.broker.subscribe("accounts.logout", events.append)
    ddp = await srv.ddp()
    assert (await ddp.login(dave.token))["result"]["id"] == dave.id
    res = await ddp.call("logout")
    assert res == {"msg": "result", "id": res["id"]}
    code = await asyncio.wait_for(ddp.closed, 5)
    assert code == 1002
    assert events and events[0]["userId"] == dave.id
    assert (await srv.http.get("/api/v1/me", headers=dave.headers)).status_code == 401
    again = await srv.ddp()
    res = await again.login(dave.token)
    assert res["error"]["reason"] == LOGGED_OUT


async def test_deactivated_user_cannot_resume(accounts_server):
    srv = accounts_server
    erin = await create_user(srv, "erin", active=False, password="pw-e")
    ddp = await srv.ddp()
    res = await ddp.login(erin.token)
    assert res["error"]["error"] == "error-user-is-not-activated"
    res = await ddp.call("login", {"user": {"username": "erin"}, "password": "pw-e"})
    assert res["error"]["error"] == "error-user-is-not-activated"
