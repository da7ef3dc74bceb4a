"""permissions.listAll / permissions.update over REST, permissions/get and authorization:* over DDP,
and operator-injection attempts on role and permission bodies (all refused with 400 before any handler)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.users import create_user


async def test_list_all_and_updated_since(authz):
    plain = await create_user(authz, "pleb")
    r = await authz.http.get("/api/v1/permissions.listAll", headers=plain.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["remove"] == [] and len(body["update"]) > 150
    one = next(p for p in body["update"] if p["_id"] == "create-c")
    assert set(one) >= {"_id", "roles", "_updatedAt"} and "user" in one["roles"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await authz.http.get("/api/v1/permissions.listAll", params={"updatedSince": future}, headers=plain.headers)
    assert r.json()["update"] == []
    r = await authz.http.get("/api/v1/permissions.listAll", params={"updatedSince": "soon"}, headers=plain.headers)
    assert r.status_code == 400 and r.json()["errorType"] == "error-updatedSince-param-invalid"
    assert (await authz.http.get("/api/v1/permissions.listAll")).status_code == 401


async def test_update_permissions(authz):
    admin = await create_user(authz, "boss", roles=("admin",))
    plain = await create_user(authz, "pleb")
    changed: list = []
    await authz.kernel.broker.subscribe("permission.changed", changed.append)
    body = {"permissions": [{"_id": "view-statistics", "roles": ["admin", "user"]}]}
    r = await authz.http.post("/api/v1/permissions.update", headers=plain.headers, json=body)
    assert r.status_code == 403
    since = datetime.now(UTC)
    r = await authz.http.post("/api/v1/permissions.update", headers=admin.headers, json=body)
    assert r.status_code == 200, r.text
    perms = {p["_id"]: p for p in r.json()["permissions"]}
    assert perms["view-statistics"]["roles"] == ["admin", "user"]
    assert changed[0]["clientAction"] == "updated" and changed[0]["data"]["_id"] == "view-statistics"
    # takes effect at once, over HTTP too
    r = await authz.http.get("/api/info", headers=plain.headers)
    assert "info" in r.json()
    r = await authz.http.get("/api/v1/permissions.listAll", params={"updatedSince": since.isoformat()},
                             headers=plain.headers)
    assert [p["_id"] for p in r.json()["update"]] == ["view-statistics"]


@pytest.mark.parametrize("body,code", [
    ({"permissions": [{"_id": "view-statistics", "roles": ["nosuchrole"]}]}, "error-invalid-role"),
    ({"permissions": [{"_id": "no-such-permission", "roles": ["admin"]}]}, "error-invalid-permission"),
    ({"permissions": [{"_id": "access-permissions", "roles": ["user"]}]}, "error-action-not-allowed"),
])
async def test_update_permissions_refusals(authz, body, code):
    admin = await create_user(authz, "boss", roles=("admin",))
    r = await authz.http.post("/api/v1/permissions.update", headers=admin.headers, json=body)
    assert r.status_code == 400 and r.json()["errorType"] == code
    doc = await authz.kernel.db["rocketchat_permissions"].find_one({"_id": "access-permissions"})
    assert doc["roles"] == ["admin"]


INJECTIONS = [
    ("permissions.update", {"permissions": [{"_id": {"$ne": None}, "roles": ["admin"]}]}),
    ("permissions.update", {"permissions": [{"_id": "view-statistics", "roles": [{"$ne": None}]}]}),
    ("permissions.update", {"permissions": [{"_id": "view-statistics", "roles": {"$in": ["user"]}}]}),
    ("permissions.update", {"permissions": [{"_id": "view-statistics", "roles": ["user"], "$set": {}}]}),
    ("permissions.update", {"permissions": {"_id": "view-statistics"}}),
    ("roles.create", {"name": {"$regex": ".*"}}),
    ("roles.create", {"name": "ok", "protected": True}),
    ("roles.update", {"roleId": {"$ne": None}, "name": "x"}),
    ("roles.delete", {"roleId": {"$gt": ""}}),
    ("roles.addUserToRole", {"roleId": "admin", "username": {"$ne": None}}),
    ("roles.addUserToRole", {"roleName": {"$regex": "adm"}, "username": "pleb"}),
    ("roles.addUserToRole", {"roleId": "owner", "username": "pleb", "roomId": {"$exists": True}}),
    ("roles.removeUserFromRole", {"roleId": "admin", "username": {"$regex": ".*"}}),
    ("roles.removeUserFromRole", {"roleId": "user", "username": "pleb", "scope": {"$ne": None}}),
]


@pytest.mark.parametrize("path,body", INJECTIONS)
async def test_injection_in_bodies_is_400(authz, path, body):
    admin = await create_user(authz, "boss", roles=("admin",))
    await create_user(authz, "pleb")
    before = [d async for d in authz.kernel.db["rocketchat_permissions"].find({}).sort("_id", 1)]
    r = await authz.http.post(f"/api/v1/{path}", headers=admin.headers, json=body)
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params", r.text
    after = [d async for d in authz.kernel.db["rocketchat_permissions"].find({}).sort("_id", 1)]
    assert before == after
    assert await authz.kernel.db["users"].count_documents({"roles": "admin"}) == 1


@pytest.mark.parametrize("params", [
    {"role": '{"$ne": null}'}, {"role": "user", "roomId": "x", "extra": "1"}, {"role": ""},
])
async def test_injection_in_queries_is_400(authz, params):
    admin = await create_user(authz, "boss", roles=("admin",))
    r = await authz.http.get("/api/v1/roles.getUsersInRole", params=params, headers=admin.headers)
    assert r.status_code == 400, r.text


async def test_ddp_permissions_get_and_admin_methods(authz):
    admin = await create_user(authz, "boss", roles=("admin",))
    plain = await create_user(authz, "pleb")
    ddp = await authz.ddp()
    res = await ddp.call("permissions/get")
    assert res["error"]["error"] == 401   # login first
    assert "result" in await ddp.login(plain.token)
    res = await ddp.call("permissions/get")
    assert any(p["_id"] == "create-c" for p in res["result"])
    res = await ddp.call("permissions/get", {"$date": 0})
    assert len(res["result"]["update"]) > 150 and res["result"]["remove"] == []
    res = await ddp.call("authorization:addPermissionToRole", "view-statistics", "user")
    assert res["error"]["error"] == "error-action-not-allowed"
    boss = await authz.ddp()
    await boss.login(admin.token)
    res = await boss.call("authorization:addPermissionToRole", "view-statistics", "user")
    assert "error" not in res, res
    assert await authz.kernel.has_permission({"_id": plain.id, "roles": ["user"]}, "view-statistics")
    res = await boss.call("authorization:removeRoleFromPermission", "view-statistics", "user")
    assert not await authz.kernel.has_permission({"_id": plain.id, "roles": ["user"]}, "view-statistics")
    res = await boss.call("authorization:addPermissionToRole", "view-statistics", "ghost-role")
    assert res["error"]["error"] == "error-invalid-role"
    res = await boss.call("authorization:addUserToRole", "bot", "pleb")
    assert res["result"] is True
    assert "bot" in (await authz.kernel.db["users"].find_one({"_id": plain.id}))["roles"]
    res = await boss.call("authorization:removeUserFromRole", "bot", "pleb", None)
    assert res["result"] is True
    res = await boss.call("authorization:addUserToRole", {"$ne": None}, "pleb")
    assert res["error"]["error"] == "error-invalid-params"
    res = await boss.call("authorization:deleteRole", "admin")
    assert res["error"]["error"] == "error-role-protected"


async def test_role_change_applies_to_an_open_ddp_session(authz):
    """A DDP connection keeps the user it logged in with; a demotion must still take effect at once."""
    admin = await create_user(authz, "boss", roles=("admin",))
    other = await create_user(authz, "deputy", roles=("user", "admin"))
    ddp = await authz.ddp()
    await ddp.login(other.token)
    res = await ddp.call("authorization:addPermissionToRole", "view-statistics", "bot")
    assert "error" not in res, res
    r = await authz.http.post("/api/v1/roles.removeUserFromRole", headers=admin.headers,
                              json={"roleId": "admin", "username": "deputy"})
    assert r.status_code == 200, r.text
    res = await ddp.call("authorization:removeRoleFromPermission", "view-statistics", "bot")
    assert res["error"]["error"] == "error-action-not-allowed"
    # and a promotion too
    await authz.http.post("/api/v1/roles.addUserToRole", headers=admin.headers,
                          json={"roleId": "admin", "username": "deputy"})
    res = await ddp.call("authorization:removeRoleFromPermission", "view-statistics", "bot")
    assert "error" not in res, res
