"""REST login / logout / me and token authentication, over real HTTP against the embedded database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.security import hash_token
from tests.users import create_user

UNAUTHORIZED = {"success": False, "status": "error", "error": "Unauthorized", "message": "Unauthorized"}


async def test_login_with_username_reads_me_and_logs_out(accounts_server):
    srv = accounts_server
    alice = await create_user(srv, "alice", password="pw-alice-1")
    r = await srv.http.post("/api/v1/login", json={"username": "alice", "password": "pw-alice-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success" and body["success"] is True
    data = body["data"]
    assert data["userId"] == alice.id
    assert data["me"]["username"] == "alice"
    assert data["me"]["email"] == "alice@example.org"
    assert data["me"]["services"] == {"password": {"exists": True}}
    headers = {"X-User-Id": alice.id, "X-Auth-Token": data["authToken"]}

    me = await srv.http.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["_id"] == alice.id and me.json()["username"] == "alice"
    assert "bcrypt" not in me.text and "hashedToken" not in me.text

    stored = await srv.kernel.db["users"].find_one({"_id": alice.id})
    hashes = [t["hashedToken"] for t in stored["services"]["resume"]["loginTokens"]]
    assert hash_token(data["authToken"]) in hashes and data["authToken"] not in str(stored)

    out = await srv.http.post("/api/v1/logout", headers=headers, json={})
    assert out.status_code == 200
    assert out.json() == {"status": "success", "data": {"message": "You've been logged out!"}, "success": True}
    again = await srv.http.get("/api/v1/me", headers=headers)
    assert again.status_code == 401
    # The other token (from tests/users.py) still works.
    assert (await srv.http.get("/api/v1/me", headers=alice.headers)).status_code == 200


async def test_login_variants_user_email_and_resume(accounts_server):
    srv = accounts_server
    bob = await create_user(srv, "bob", password="pw-bob")
    for body in ({"user": "bob", "password": "pw-bob"}, {"user": "bob@example.org", "password": "pw-bob"},
                 {"email": "BOB@example.org", "password": "pw-bob"}, {"username": "BOB", "password": "pw-bob"}):
        r = await srv.http.post("/api/v1/login", json=body)
        assert r.status_code == 200, (body, r.text)
        assert r.json()["data"]["userId"] == bob.id
    r = await srv.http.post("/api/v1/login", json={"resume": bob.token})
    assert r.status_code == 200
    assert r.json()["data"]["authToken"] == bob.token


async def test_bad_credentials_are_one_401(accounts_server):
    srv = accounts_server
    await create_user(srv, "carol", password="right")
    wrong = await srv.http.post("/api/v1/login", json={"username": "carol", "password": "wrong"})
    unknown = await srv.http.post("/api/v1/login", json={"username": "nobody", "password": "wrong"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == UNAUTHORIZED


async def test_token_rules_inactive_expired_unknown(accounts_server):
    srv = accounts_server
    dave = await create_user(srv, "dave")
    assert (await srv.http.get("/api/v1/me", headers=dave.headers)).status_code == 200
    bad = {"X-User-Id": dave.id, "X-Auth-Token": "not-a-token"}
    assert (await srv.http.get("/api/v1/me", headers=bad)).status_code == 401
    assert (await srv.http.get("/api/v1/me")).status_code == 401
    users = srv.kernel.db["users"]
    old = datetime.now(UTC) - timedelta(days=91)
    await users.update_one({"_id": dave.id}, {"$set": {"services.resume.loginTokens.0.when": old}})
    r = await srv.http.get("/api/v1/me", headers=dave.headers)
    assert r.status_code == 401
    assert r.json()["error"] == "You must be logged in to do this."
    erin = await create_user(srv, "erin", active=False)
    assert (await srv.http.get("/api/v1/me", headers=erin.headers)).status_code == 401


async def test_broker_actions(accounts_server):
    srv = accounts_server
    frank = await create_user(srv, "frank")
    broker = srv.kernel.broker
    user = await broker.call("accounts.get_user", frank.id)
    assert user["username"] == "frank" and "services" not in user
    assert (await broker.call("accounts.get_user_by_username", "frank"))["_id"] == frank.id
    assert await broker.call("accounts.get_user", "nope") is None
    users = await broker.call("accounts.get_users", [frank.id, "nope"])
    assert [u["_id"] for u in users] == [frank.id] and "services" not in users[0]


async def test_users_indexes(accounts_server):
    info = await accounts_server.kernel.db["users"].index_information()
    assert info["username_1"].get("unique") is True
    assert info["emails.address_1"].get("unique") is True
    assert "services.resume.loginTokens.hashedToken_1" in info
