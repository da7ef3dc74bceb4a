"""REST users.*: create, register, info, list, update, updateOwnBasicInfo, delete, setActiveStatus."""
from __future__ import annotations

import hashlib

from tests.users import create_user


async def login(srv, username, password):
    r = await srv.http.post("/api/v1/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    return {"X-User-Id": d["userId"], "X-Auth-Token": d["authToken"]}


async def test_create_user_then_login_as_them(full_server):
    srv = full_server
    boss = await create_user(srv, "boss", roles=("admin", "user"))
    body = {"email": "new@example.org", "name": "New Person", "password": "pw-new", "username": "newbie"}
    r = await srv.http.post("/api/v1/users.create", headers=boss.headers, json=body)
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert user["username"] == "newbie" and user["roles"] == ["user"] and user["active"] is True
    assert user["emails"] == [{"address": "new@example.org", "verified": False}]
    assert "services" not in user
    headers = await login(srv, "newbie", "pw-new")
    assert (await srv.http.get("/api/v1/me", headers=headers)).json()["name"] == "New Person"
    stored = await srv.kernel.db["users"].find_one({"username": "newbie"})
    bcrypt_hash = stored["services"]["password"]["bcrypt"]
    import bcrypt
    assert bcrypt.checkpw(hashlib.sha256(b"pw-new").hexdigest().encode(), bcrypt_hash.encode())

    dup = await srv.http.post("/api/v1/users.create", headers=boss.headers, json={**body, "username": "NEWBIE",
                                                                                  "email": "x@example.org"})
    assert dup.status_code == 400 and dup.json()["errorType"] == "error-field-unavailable"
    bad = await srv.http.post("/api/v1/users.create", headers=boss.headers,
                              json={**body, "username": "no spaces", "email": "y@example.org"})
    assert bad.status_code == 400 and bad.json()["errorType"] == "error-invalid-username"
    inj = await srv.http.post("/api/v1/users.create", headers=boss.headers,
                              json={**body, "username": {"$ne": None}})
    assert inj.status_code == 400 and inj.json()["errorType"] == "invalid-params"


async def test_create_requires_permission_and_assign_roles(full_server):
    srv = full_server
    pleb = await create_user(srv, "pleb")
    body = {"email": "a@example.org", "name": "A", "password": "pw", "username": "aaa"}
    r = await srv.http.post("/api/v1/users.create", headers=pleb.headers, json=body)
    assert r.status_code == 403
    boss = await create_user(srv, "boss", roles=("admin",))
    r = await srv.http.post("/api/v1/users.create", headers=boss.headers, json={**body, "roles": ["nosuchrole"]})
    assert r.status_code == 400 and r.json()["errorType"] == "error-invalid-role"
    r = await srv.http.post("/api/v1/users.create", headers=boss.headers, json={**body, "roles": ["bot"]})
    assert r.status_code == 200 and r.json()["user"]["roles"] == ["bot"]


async def test_register_follows_the_setting(server_factory):
    srv = await server_factory(plugins=("settings", "accounts", "authorization"))
    body = {"username": "reg1", "email": "reg1@example.org", "pass": "pw-reg", "name": "Reg One"}
    r = await srv.http.post("/api/v1/users.register", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["username"] == "reg1"
    headers = await login(srv, "reg1", "pw-reg")
    again = await srv.http.post("/api/v1/users.register", headers=headers,
                                json={**body, "username": "reg2", "email": "reg2@example.org"})
    assert again.status_code == 400 and again.json()["error"] == "Logged in users can not register again."
    await srv.kernel.broker.call("settings.set", "Accounts_RegistrationForm", "Disabled")
    r = await srv.http.post("/api/v1/users.register", json={**body, "username": "reg3", "email": "r3@example.org"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-user-registration-disabled"
    await srv.kernel.broker.call("settings.set", "Accounts_RegistrationForm", "Secret URL")
    await srv.kernel.broker.call("settings.set", "Accounts_RegistrationForm_SecretURL", "s3cr3t")
    body4 = {**body, "username": "reg4", "email": "r4@example.org"}
    r = await srv.http.post("/api/v1/users.register", json=body4)
    assert r.status_code == 400 and r.json()["errorType"] == "error-user-registration-secret"
    r = await srv.http.post("/api/v1/users.register", json={**body4, "secret": "s3cr3t"})
    assert r.status_code == 200


async def test_info_and_list(full_server):
    srv = full_server
    amy = await create_user(srv, "amy")
    await create_user(srv, "ben")
    boss = await create_user(srv, "boss", roles=("admin",))
    r = await srv.http.get("/api/v1/users.info", params={"username": "ben"}, headers=amy.headers)
    assert r.status_code == 200
    user = r.json()["user"]
    assert user["username"] == "ben" and "emails" not in user and "services" not in user
    r = await srv.http.get("/api/v1/users.info", params={"userId": amy.id}, headers=amy.headers)
    assert r.json()["user"]["emails"][0]["address"] == "amy@example.org"
    r = await srv.http.get("/api/v1/users.info", params={"username": "ben"}, headers=boss.headers)
    assert "emails" in r.json()["user"]
    r = await srv.http.get("/api/v1/users.info", params={"username": "ghost"}, headers=amy.headers)
    assert r.status_code == 400 and r.json()["error"] == "User not found."
    r = await srv.http.get("/api/v1/users.list", params={"count": 2, "offset": 0}, headers=amy.headers)
    body = r.json()
    # admin (bootstrap), rocket.cat, amy, ben, boss
    assert body["total"] == 5 and body["count"] == 2 and len(body["users"]) == 2
    assert [u["username"] for u in body["users"]] == ["admin", "amy"]
    r = await srv.http.get("/api/v1/users.list", params={"count": 50, "offset": 4}, headers=amy.headers)
    assert [u["username"] for u in r.json()["users"]] == ["rocket.cat"]
    r = await srv.http.get("/api/v1/users.list", params={"query": '{"username": {"$regex": ".*"}}'},
                           headers=amy.headers)
    assert r.status_code == 400


async def test_update_and_update_own(full_server):
    srv = full_server
    boss = await create_user(srv, "boss", roles=("admin",))
    cam = await create_user(srv, "cam", password="old-pw")
    r = await srv.http.post("/api/v1/users.update", headers=cam.headers,
                            json={"userId": boss.id, "data": {"name": "Hacked"}})
    assert r.status_code == 403
    r = await srv.http.post("/api/v1/users.update", headers=boss.headers,
                            json={"userId": cam.id, "data": {"name": "Cam Renamed", "password": "new-pw"}})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["name"] == "Cam Renamed"
    assert (await srv.http.get("/api/v1/me", headers=cam.headers)).status_code == 401  # sessions ended
    headers = await login(srv, "cam", "new-pw")
    own = "/api/v1/users.updateOwnBasicInfo"
    r = await srv.http.post(own, headers=headers, json={"data": {"bio": "hello", "username": "cammy"}})
    assert r.status_code == 200 and r.json()["user"]["username"] == "cammy"
    r = await srv.http.post(own, headers=headers, json={"data": {"newPassword": "x1"}})
    assert r.status_code == 400 and r.json()["errorType"] == "error-invalid-password"
    other = await login(srv, "cammy", "new-pw")
    digest = hashlib.sha256(b"new-pw").hexdigest()
    r = await srv.http.post(own, headers=headers, json={"data": {"newPassword": "x1", "currentPassword": digest}})
    assert r.status_code == 200
    assert (await srv.http.get("/api/v1/me", headers=headers)).status_code == 200   # the caller's session stays
    assert (await srv.http.get("/api/v1/me", headers=other)).status_code == 401
    await login(srv, "cammy", "x1")


async def test_delete_and_last_admin(full_server):
    srv = full_server
    boss = await create_user(srv, "boss", roles=("admin",))
    dan = await create_user(srv, "dan")
    r = await srv.http.post("/api/v1/users.delete", headers=dan.headers, json={"userId": boss.id})
    assert r.status_code == 403
    r = await srv.http.post("/api/v1/users.delete", headers=boss.headers, json={"username": "dan"})
    assert r.status_code == 200
    assert (await srv.http.get("/api/v1/me", headers=dan.headers)).status_code == 401
    admin = await srv.kernel.db["users"].find_one({"username": "admin"})
    r = await srv.http.post("/api/v1/users.delete", headers=boss.headers, json={"userId": admin["_id"]})
    assert r.status_code == 200
    r = await srv.http.post("/api/v1/users.delete", headers=boss.headers, json={"userId": boss.id})
    assert r.status_code == 400 and "without admins" in r.json()["error"]


async def test_deactivation_revokes_sessions(full_server):
    srv = full_server
    boss = await create_user(srv, "boss", roles=("admin",))
    eve = await create_user(srv, "eve", password="pw-eve")
    events = []
    await srv.kernel.broker.subscribe("user.forceLogout", events.append)
    ddp = await srv.ddp()
    assert (await ddp.login(eve.token))["result"]["id"] == eve.id
    r = await srv.http.post("/api/v1/users.setActiveStatus", headers=boss.headers,
                            json={"userId": eve.id, "activeStatus": False})
    assert r.status_code == 200 and r.json()["user"] == {"_id": eve.id, "active": False}
    assert events and events[0]["userId"] == eve.id
    assert (await srv.http.get("/api/v1/me", headers=eve.headers)).status_code == 401
    r = await srv.http.post("/api/v1/login", json={"username": "eve", "password": "pw-eve"})
    assert r.status_code == 401 and r.json()["error"] == "error-user-is-not-activated"
    again = await srv.ddp()
    assert (await again.login(eve.token))["error"]["error"] == 403
    r = await srv.http.post("/api/v1/users.setActiveStatus", headers=eve.headers,
                            json={"userId": eve.id, "activeStatus": True})
    assert r.status_code == 401
    r = await srv.http.post("/api/v1/users.setActiveStatus", headers=boss.headers,
                            json={"userId": eve.id, "activeStatus": True})
    assert r.status_code == 200
    await login(srv, "eve", "pw-eve")
