"""users.setStatus / getStatus / getPresence (without a presence service, and delegating to one), createToken
and personal access tokens."""
from __future__ import annotations

from core import hookimpl
from tests.users import create_user


async def test_status_without_presence_service(full_server):
    srv = full_server
    fay = await create_user(srv, "fay")
    gus = await create_user(srv, "gus")
    events = []
    await srv.kernel.broker.subscribe("presence.status", events.append)
    r = await srv.http.post("/api/v1/users.setStatus", headers=fay.headers, json={"status": "busy", "message": "afk"})
    assert r.status_code == 200, r.text
    doc = await srv.kernel.db["users"].find_one({"_id": fay.id})
    assert doc["statusDefault"] == "busy" and doc["statusText"] == "afk"
    r = await srv.http.get("/api/v1/users.getStatus", headers=fay.headers)
    assert r.json() == {"_id": fay.id, "message": "afk", "status": doc["status"], "connectionStatus": "offline",
                        "success": True}
    r = await srv.http.get("/api/v1/users.getPresence", params={"userId": fay.id}, headers=gus.headers)
    assert r.json() == {"presence": doc["status"], "success": True}
    r = await srv.http.post("/api/v1/users.setStatus", headers=gus.headers, json={"status": "away",
                                                                                  "userId": fay.id})
    assert r.status_code == 400 and r.json()["errorType"] == "error-action-not-allowed"
    r = await srv.http.post("/api/v1/users.setStatus", headers=gus.headers, json={"status": "sleeping"})
    assert r.status_code == 400
    # online connection: the effective status follows the default status
    await srv.kernel.db["users"].update_one({"_id": gus.id}, {"$set": {"statusConnection": "online",
                                                                        "status": "online"}})
    await srv.http.post("/api/v1/users.setStatus", headers=gus.headers, json={"status": "away"})
    assert events[-1]["user"]["_id"] == gus.id and events[-1]["user"]["status"] == "away"
    assert events[-1]["previousStatus"] == "online"


class FakePresence:
    name = "fake_presence"

    def __init__(self) -> None:
        self.calls = []

    @hookimpl
    async def orbitchat_startup(self, api):
        async def set_status(uid, status, text=None):
            self.calls.append((uid, status, text))

        async def get_status(uid):
            return {"status": "busy", "statusText": "in a call", "connectionStatus": "online"}

        await api.broker.register("presence.set_status", set_status)
        await api.broker.register("presence.get_status", get_status)


async def test_status_delegates_to_presence(server_factory):
    fake = FakePresence()
    srv = await server_factory(plugins=("settings", "accounts", "authorization", fake))
    hal = await create_user(srv, "hal")
    r = await srv.http.post("/api/v1/users.setStatus", headers=hal.headers, json={"status": "away", "message": "brb"})
    assert r.status_code == 200
    assert fake.calls == [(hal.id, "away", "brb")]
    r = await srv.http.get("/api/v1/users.getPresence", headers=hal.headers)
    assert r.json()["presence"] == "busy" and r.json()["connectionStatus"] == "online"
    r = await srv.http.get("/api/v1/users.getStatus", params={"username": "hal"}, headers=hal.headers)
    assert r.json()["status"] == "busy" and r.json()["message"] == "in a call"


async def test_create_token(full_server):
    srv = full_server
    boss = await create_user(srv, "boss", roles=("admin",))
    ivy = await create_user(srv, "ivy")
    r = await srv.http.post("/api/v1/users.createToken", headers=ivy.headers, json={"userId": boss.id})
    assert r.status_code == 403
    r = await srv.http.post("/api/v1/users.createToken", headers=boss.headers, json={"username": "ivy"})
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["userId"] == ivy.id
    me = await srv.http.get("/api/v1/me", headers={"X-User-Id": ivy.id, "X-Auth-Token": data["authToken"]})
    assert me.status_code == 200 and me.json()["username"] == "ivy"


async def test_personal_access_tokens(full_server):
    srv = full_server
    jo = await create_user(srv, "jo")
    gen = "/api/v1/users.generatePersonalAccessToken"
    r = await srv.http.post(gen, headers=jo.headers, json={"tokenName": "ci", "bypassTwoFactor": True})
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    pat = {"X-User-Id": jo.id, "X-Auth-Token": token}
    assert (await srv.http.get("/api/v1/me", headers=pat)).status_code == 200
    r = await srv.http.post(gen, headers=jo.headers, json={"tokenName": "ci"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-token-already-exists"
    r = await srv.http.get("/api/v1/users.getPersonalAccessTokens", headers=jo.headers)
    tokens = r.json()["tokens"]
    assert len(tokens) == 1 and tokens[0]["name"] == "ci" and tokens[0]["lastTokenPart"] == token[-6:]
    assert tokens[0]["bypassTwoFactor"] is True and "hashedToken" not in r.text
    r = await srv.http.post("/api/v1/users.regeneratePersonalAccessToken", headers=jo.headers,
                            json={"tokenName": "ci"})
    new = r.json()["token"]
    assert new != token
    assert (await srv.http.get("/api/v1/me", headers=pat)).status_code == 401
    pat2 = {"X-User-Id": jo.id, "X-Auth-Token": new}
    assert (await srv.http.get("/api/v1/me", headers=pat2)).status_code == 200
    r = await srv.http.post("/api/v1/users.removePersonalAccessToken", headers=jo.headers, json={"tokenName": "ci"})
    assert r.status_code == 200
    assert (await srv.http.get("/api/v1/me", headers=pat2)).status_code == 401
    r = await srv.http.post("/api/v1/users.removePersonalAccessToken", headers=jo.headers, json={"tokenName": "ci"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-token-does-not-exists"
    guest = await create_user(srv, "guesty", roles=("guest",))
    r = await srv.http.post(gen, headers=guest.headers, json={"tokenName": "x"})
    assert r.status_code == 403
