"""The user hooks accounts calls: pre_user_created_prevent, post_user_created, post_user_logged_in,
post_user_logged_out, provide_authentication (consulted for credentials the password check does not handle)."""
from __future__ import annotations

from core import hookimpl
from tests.users import create_user


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    @hookimpl
    async def pre_user_created_prevent(self, user, ctx):
        return "usernames starting with blocked are reserved" if user["username"].startswith("blocked") else None

    @hookimpl
    async def post_user_created(self, user, ctx):
        assert "services" not in user
        self.seen.append(("created", user["username"]))

    @hookimpl
    async def post_user_logged_in(self, user, ctx):
        self.seen.append(("in:" + ctx.transport, user["username"]))

    @hookimpl
    async def post_user_logged_out(self, user, ctx):
        self.seen.append(("out:" + ctx.transport, user["username"]))

    @hookimpl
    async def provide_authentication(self, credentials, ctx):
        if not credentials.get("ldap"):
            return None
        if credentials.get("ldapPass") == "directory-ok":
            return {"user_id": self.uid}
        return {"error": "error-ldap-login-failed", "reason": "LDAP refused the bind"}


async def start(server_factory):
    rec = Recorder()
    srv = await server_factory(plugins=("settings", "accounts", "authorization", rec))
    return srv, rec


async def test_hook_pre_user_created_prevent_and_post_user_created(server_factory):
    srv, rec = await start(server_factory)
    boss = await create_user(srv, "boss", roles=("admin",))
    body = {"email": "b@example.org", "name": "B", "password": "pw", "username": "blocked1"}
    r = await srv.http.post("/api/v1/users.create", headers=boss.headers, json=body)
    assert r.status_code == 400
    assert r.json()["errorType"] == "error-app-prevented"
    assert "reserved" in r.json()["error"]
    assert await srv.kernel.db["users"].find_one({"username": "blocked1"}) is None
    r = await srv.http.post("/api/v1/users.create", headers=boss.headers, json={**body, "username": "fine"})
    assert r.status_code == 200
    await srv.kernel.hooks.drain()
    assert ("created", "fine") in rec.seen and ("created", "blocked1") not in rec.seen


async def test_hook_post_user_logged_in_and_out(server_factory):
    srv, rec = await start(server_factory)
    await create_user(srv, "lou", password="pw-lou")
    r = await srv.http.post("/api/v1/login", json={"username": "lou", "password": "pw-lou"})
    d = r.json()["data"]
    await srv.http.post("/api/v1/logout", headers={"X-User-Id": d["userId"], "X-Auth-Token": d["authToken"]})
    ddp = await srv.ddp()
    await ddp.call("login", {"user": {"username": "lou"}, "password": "pw-lou"})
    await ddp.call("logout")
    await srv.kernel.hooks.drain()
    assert [s for s in rec.seen if s[1] == "lou"] == [("in:rest", "lou"), ("out:rest", "lou"),
                                                       ("in:ddp", "lou"), ("out:ddp", "lou")]


async def test_hook_provide_authentication(server_factory):
    srv, rec = await start(server_factory)
    kim = await create_user(srv, "kim")
    rec.uid = kim.id
    creds = {"ldap": True, "username": "kim", "ldapPass": "directory-ok", "ldapOptions": {}}
    r = await srv.http.post("/api/v1/login", json=creds)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["userId"] == kim.id
    r = await srv.http.post("/api/v1/login", json={**creds, "ldapPass": "wrong"})
    assert r.status_code == 401
    assert r.json() == {"success": False, "status": "error", "error": "error-ldap-login-failed",
                        "message": "LDAP refused the bind"}
    ddp = await srv.ddp()
    res = await ddp.call("login", creds)
    assert res["result"]["id"] == kim.id and res["result"]["type"] == "ldap"
    res = await ddp.call("login", {"saml": True, "credentialToken": "x"})   # nobody handles it
    assert res["error"]["error"] == 400
    r = await srv.http.post("/api/v1/login", json={**creds, "username": {"$ne": None}})
    assert r.status_code == 400
