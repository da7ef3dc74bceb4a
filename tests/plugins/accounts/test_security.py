"""Bad input and brute force: operator injection refused with 400, identical failures for unknown users,
failed-login blocking per user and per IP (Block_Multiple_Failed_Logins), the throttle's clock."""
from __future__ import annotations

import statistics
import time

from plugins.accounts.throttle import FailedLogins
from tests.users import create_user

LOGIN_INJECTIONS = [
    {"username": {"$ne": None}, "password": "x"},
    {"user": {"$regex": ".*"}, "password": "x"},
    {"email": {"$gt": ""}, "password": "x"},
    {"username": "victim", "password": {"$ne": None}},
    {"resume": {"$ne": None}},
    {"resume": {"$regex": ".*"}},
    {"username": ["victim"], "password": "x"},
    {"$where": "1", "password": "x"},
    {"username": "victim", "password": "x", "$or": [{}]},
    {"ldap": True, "username": {"$ne": None}, "ldapPass": "x"},
    {"username": "victim", "password": "x" * 5000},
]


async def test_login_injection_corpus_is_400(accounts_server):
    srv = accounts_server
    await create_user(srv, "victim", password="secret")
    for body in LOGIN_INJECTIONS:
        r = await srv.http.post("/api/v1/login", json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert "authToken" not in r.text
    for name in (".*", "vic.*", "^victim", "victim|x"):
        r = await srv.http.post("/api/v1/login", json={"username": name, "password": "secret"})
        assert r.status_code == 401, name
    r = await srv.http.post("/api/v1/login", content=b"[1,2]", headers={"Content-Type": "application/json"})
    assert r.status_code == 400


async def test_lookup_injection_is_refused(full_server):
    srv = full_server
    amy = await create_user(srv, "amy")
    for params in ({"username[$ne]": "x"}, {"userId[$regex]": ".*"}):
        r = await srv.http.get("/api/v1/users.info", params=params, headers=amy.headers)
        assert r.status_code == 400, params
    r = await srv.http.get("/api/v1/users.info", params={"username": ".*"}, headers=amy.headers)
    assert r.status_code == 400 and r.json()["error"] == "User not found."
    r = await srv.http.post("/api/v1/users.setStatus", headers=amy.headers,
                            json={"status": "away", "userId": {"$ne": None}})
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"


async def test_unknown_user_and_wrong_password_take_similar_time(server_factory):
    srv = await server_factory(plugins=("settings", "accounts"), env={"ORBITCHAT_BCRYPT_ROUNDS": "9"})
    await create_user(srv, "tim", password="right")
    await srv.kernel.db["users"].update_one({"username": "tim"}, {"$set": {"services.password.bcrypt": (
        await srv.kernel.db["users"].find_one({"username": "admin"}))["services"]["password"]["bcrypt"]}})

    async def timed(username):
        t = time.perf_counter()
        r = await srv.http.post("/api/v1/login", json={"username": username, "password": "wrong"})
        assert r.status_code == 401
        return time.perf_counter() - t

    wrong, unknown = [], []
    for _ in range(4):
        wrong.append(await timed("tim"))
        unknown.append(await timed("nobody-here"))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.6 < ratio < 1.6, (wrong, unknown)


async def test_block_by_user_then_by_ip(server_factory):
    env = {"OVERWRITE_SETTING_Block_Multiple_Failed_Logins_Attempts_Until_Block_By_Ip": "15"}
    srv = await server_factory(plugins=("settings", "accounts"), env=env)
    await create_user(srv, "uma", password="right")
    await create_user(srv, "val", password="right")
    for _ in range(10):
        r = await srv.http.post("/api/v1/login", json={"username": "uma", "password": "wrong"})
        assert r.json()["error"] == "Unauthorized"
    r = await srv.http.post("/api/v1/login", json={"username": "uma", "password": "right"})
    assert r.status_code == 401
    assert r.json()["error"] == "error-login-blocked-for-user"
    # Same block for a name that does not exist: blocking reveals nothing.
    for _ in range(10):
        await srv.http.post("/api/v1/login", json={"username": "ghost", "password": "wrong"})
    # 22 failures from this IP so far, past 15: now even val is refused by IP.
    r = await srv.http.post("/api/v1/login", json={"username": "val", "password": "right"})
    assert r.status_code == 401 and r.json()["error"] == "error-login-blocked-for-ip"
    ddp = await srv.ddp()
    res = await ddp.call("login", {"user": {"username": "val"}, "password": "right"})
    assert res["error"]["error"] == "error-login-blocked-for-ip"


async def test_blocking_can_be_disabled(server_factory):
    env = {"OVERWRITE_SETTING_Block_Multiple_Failed_Logins_Enabled": "false"}
    srv = await server_factory(plugins=("settings", "accounts"), env=env)
    await create_user(srv, "wes", password="right")
    for _ in range(12):
        await srv.http.post("/api/v1/login", json={"username": "wes", "password": "wrong"})
    r = await srv.http.post("/api/v1/login", json={"username": "wes", "password": "right"})
    assert r.status_code == 200


def test_throttle_unblocks_after_the_time_and_success_resets():
    now = [1000.0]
    t = FailedLogins(clock=lambda: now[0])
    for _ in range(3):
        t.failure("user", "u")
    assert t.blocked("user", "u", 3, 5)
    now[0] += 5 * 60
    assert not t.blocked("user", "u", 3, 5)
    t.failure("user", "u")           # still past the limit since the last success: blocked again
    assert t.blocked("user", "u", 3, 5)
    t.success("user", "u")
    assert not t.blocked("user", "u", 3, 5)
    assert not t.blocked("user", None, 3, 5)
