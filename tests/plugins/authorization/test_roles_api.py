"""REST roles.* over real HTTP: list, sync, create, update, delete, add/remove user, users in role."""
from __future__ import annotations

from datetime import UTC, datetime

from tests.users import create_user


async def _setup(srv):
    admin = await create_user(srv, "boss", roles=("admin",))
    plain = await create_user(srv, "pleb", roles=("user",))
    return admin, plain


async def test_roles_list_and_sync(authz):
    admin, plain = await _setup(authz)
    r = await authz.http.get("/api/v1/roles.list", headers=plain.headers)
    assert r.status_code == 200
    roles = {x["_id"]: x for x in r.json()["roles"]}
    assert roles["owner"] == {**roles["owner"], "name": "owner", "scope": "Subscriptions", "protected": True}
    assert isinstance(roles["owner"]["_updatedAt"], str) and roles["owner"]["_updatedAt"].endswith("Z")
    since = datetime.now(UTC).isoformat()
    r = await authz.http.post("/api/v1/roles.create", headers=admin.headers, json={"name": "support"})
    new_id = r.json()["role"]["_id"]
    r = await authz.http.get("/api/v1/roles.sync", params={"updatedSince": since}, headers=plain.headers)
    assert [x["_id"] for x in r.json()["roles"]["update"]] == [new_id]
    assert r.json()["roles"]["remove"] == []
    await authz.http.post("/api/v1/roles.delete", headers=admin.headers, json={"roleId": new_id})
    r = await authz.http.get("/api/v1/roles.sync", params={"updatedSince": since}, headers=plain.headers)
    assert r.json()["roles"]["update"] == [] and [x["_id"] for x in r.json()["roles"]["remove"]] == [new_id]
    r = await authz.http.get("/api/v1/roles.sync", params={"updatedSince": "yesterday"}, headers=plain.headers)
    assert r.status_code == 400 and r.json()["errorType"] == "error-updatedSince-param-invalid"
    r = await authz.http.get("/api/v1/roles.list")
    assert r.status_code == 401


async def test_create_update_delete_role(authz):
    admin, plain = await _setup(authz)
    seen: list = []
    await authz.kernel.broker.subscribe("watch.roles", seen.append)
    body = {"name": "support", "description": "Helpdesk", "scope": "Subscriptions", "mandatory2fa": False}
    r = await authz.http.post("/api/v1/roles.create", headers=plain.headers, json=body)
    assert r.status_code == 403
    r = await authz.http.post("/api/v1/roles.create", headers=admin.headers, json=body)
    assert r.status_code == 200, r.text
    role = r.json()["role"]
    assert len(role["_id"]) == 17 and role["protected"] is False and role["scope"] == "Subscriptions"
    r = await authz.http.post("/api/v1/roles.create", headers=admin.headers, json={"name": "support"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-duplicate-role-names-not-allowed"
    r = await authz.http.post("/api/v1/roles.create", headers=admin.headers, json={"name": "x", "scope": "Rooms"})
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"
    r = await authz.http.post("/api/v1/roles.update", headers=admin.headers,
                              json={"roleId": role["_id"], "name": "helpdesk", "description": "Help"})
    assert r.status_code == 200 and r.json()["role"]["name"] == "helpdesk"
    r = await authz.http.post("/api/v1/roles.update", headers=admin.headers, json={"roleId": "admin", "name": "x"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-role-protected"
    r = await authz.http.post("/api/v1/roles.delete", headers=admin.headers, json={"roleId": "admin"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-role-protected"
    r = await authz.http.post("/api/v1/roles.delete", headers=admin.headers, json={"roleId": "nope"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-invalid-roleId"
    r = await authz.http.post("/api/v1/roles.delete", headers=admin.headers, json={"roleId": role["_id"]})
    assert r.status_code == 200 and r.json() == {"success": True}
    assert [e["clientAction"] for e in seen] == ["inserted", "updated", "removed"]
    assert seen[0]["role"]["name"] == "support" and seen[2]["role"]["_id"] == role["_id"]


async def test_delete_refuses_a_role_in_use(authz):
    admin, _ = await _setup(authz)
    r = await authz.http.post("/api/v1/roles.create", headers=admin.headers, json={"name": "auditor"})
    rid = r.json()["role"]["_id"]
    r = await authz.http.post("/api/v1/roles.addUserToRole", headers=admin.headers,
                              json={"roleName": "auditor", "username": "pleb"})
    assert r.status_code == 200 and r.json()["role"]["_id"] == rid
    r = await authz.http.post("/api/v1/roles.delete", headers=admin.headers, json={"roleId": rid})
    assert r.status_code == 400 and r.json()["errorType"] == "error-role-in-use"


async def test_add_and_remove_global_role(authz):
    admin, plain = await _setup(authz)
    updates: list = []
    users: list = []
    await authz.kernel.broker.subscribe("user.roleUpdate", updates.append)
    await authz.kernel.broker.subscribe("watch.users", users.append)
    body = {"roleId": "livechat-agent", "username": "pleb"}
    assert (await authz.http.post("/api/v1/roles.addUserToRole", headers=plain.headers, json=body)).status_code == 403
    r = await authz.http.post("/api/v1/roles.addUserToRole", headers=admin.headers, json=body)
    assert r.status_code == 200 and r.json()["role"]["_id"] == "livechat-agent"
    doc = await authz.kernel.db["users"].find_one({"_id": plain.id})
    assert doc["roles"] == ["user", "livechat-agent"]
    assert updates == [{"type": "added", "_id": "livechat-agent", "u": {"_id": plain.id, "username": "pleb"}}]
    assert users[0]["id"] == plain.id and users[0]["diff"]["roles"] == ["user", "livechat-agent"]
    assert users[0]["clientAction"] == "updated" and users[0]["diff"]["_updatedAt"] == doc["_updatedAt"]
    # the new role takes effect at once
    assert await authz.kernel.has_permission(doc, "view-l-room") is True
    r = await authz.http.post("/api/v1/roles.addUserToRole", headers=admin.headers, json=body)
    assert r.status_code == 400 and r.json()["errorType"] == "error-user-already-in-role"
    r = await authz.http.post("/api/v1/roles.removeUserFromRole", headers=admin.headers, json=body)
    assert r.status_code == 200
    assert (await authz.kernel.db["users"].find_one({"_id": plain.id}))["roles"] == ["user"]
    assert updates[-1]["type"] == "removed"
    r = await authz.http.post("/api/v1/roles.removeUserFromRole", headers=admin.headers, json=body)
    assert r.status_code == 400 and r.json()["errorType"] == "error-user-not-in-role"
    for bad, code in (({"roleId": "nope", "username": "pleb"}, "error-role-not-found"),
                      ({"roleId": "bot", "username": "nobody"}, "error-invalid-user"),
                      ({"username": "pleb"}, "error-invalid-role-properties")):
        r = await authz.http.post("/api/v1/roles.addUserToRole", headers=admin.headers, json=bad)
        assert r.status_code == 400 and r.json()["errorType"] == code, (bad, r.text)


async def test_admin_role_guards(authz):
    admin, _ = await _setup(authz)
    # A user with access-permissions but without assign-admin-role cannot hand out admin.
    await authz.kernel.db["rocketchat_permissions"].update_one({"_id": "access-permissions"},
                                                               {"$push": {"roles": "livechat-manager"}})
    await authz.kernel.broker.emit("permission.changed", {"clientAction": "updated",
                                                          "data": {"_id": "access-permissions"}})
    manager = await create_user(authz, "mgr", roles=("user", "livechat-manager"))
    r = await authz.http.post("/api/v1/roles.addUserToRole", headers=manager.headers,
                              json={"roleId": "admin", "username": "pleb"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-action-not-allowed"
    # The last admin cannot be removed.
    r = await authz.http.post("/api/v1/roles.removeUserFromRole", headers=admin.headers,
                              json={"roleId": "admin", "username": "boss"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-admin-required"


async def test_room_scoped_roles_and_users_in_role(authz):
    admin, plain = await _setup(authz)
    db = authz.kernel.db
    await db["rocketchat_room"].insert_one({"_id": "GENERAL", "t": "c", "name": "general"})
    await db["rocketchat_subscription"].insert_one(
        {"_id": "sub1", "rid": "GENERAL", "u": {"_id": plain.id, "username": "pleb"}, "roles": []})
    subs: list = []
    updates: list = []
    await authz.kernel.broker.subscribe("watch.subscriptions", subs.append)
    await authz.kernel.broker.subscribe("user.roleUpdate", updates.append)
    user_doc = await db["users"].find_one({"_id": plain.id})
    assert await authz.kernel.has_permission(user_doc, "set-moderator", "GENERAL") is False
    r = await authz.http.post("/api/v1/roles.addUserToRole", headers=admin.headers,
                              json={"roleId": "owner", "username": "pleb", "roomId": "GENERAL"})
    assert r.status_code == 200, r.text
    assert (await db["rocketchat_subscription"].find_one({"_id": "sub1"}))["roles"] == ["owner"]
    assert (await db["users"].find_one({"_id": plain.id}))["roles"] == ["user"]   # not global
    assert await authz.kernel.has_permission(user_doc, "set-moderator", "GENERAL") is True
    assert await authz.kernel.has_permission(user_doc, "set-moderator") is False
    assert subs[0]["subscription"]["roles"] == ["owner"]
    assert updates[0]["scope"] == "GENERAL"
    # A room role needs a room the user is in.
    r = await authz.http.post("/api/v1/roles.addUserToRole", headers=admin.headers,
                              json={"roleId": "owner", "username": "pleb", "roomId": "elsewhere"})
    assert r.status_code == 400 and r.json()["errorType"] == "error-invalid-user"
    r = await authz.http.get("/api/v1/roles.getUsersInRole", params={"role": "owner", "roomId": "GENERAL"},
                             headers=admin.headers)
    assert r.status_code == 200 and r.json()["total"] == 1
    assert r.json()["users"][0]["username"] == "pleb" and "services" not in r.json()["users"][0]
    await create_user(authz, "zed", roles=("user",))
    r = await authz.http.get("/api/v1/roles.getUsersInRole", params={"role": "user", "count": 1, "offset": 1},
                             headers=admin.headers)
    assert r.json()["total"] == 2 and [u["username"] for u in r.json()["users"]] == ["zed"]
    r = await authz.http.get("/api/v1/roles.getUsersInRole", params={"role": "admin"}, headers=admin.headers)
    assert [u["username"] for u in r.json()["users"]] == ["boss"]
    r = await authz.http.get("/api/v1/roles.getUsersInRole", params={"role": "user"}, headers=plain.headers)
    assert r.status_code == 403
    r = await authz.http.get("/api/v1/roles.getUsersInRole", params={"role": "ghost"}, headers=admin.headers)
    assert r.status_code == 400 and r.json()["errorType"] == "error-invalid-roleId"
    r = await authz.http.post("/api/v1/roles.removeUserFromRole", headers=admin.headers,
                              json={"roleId": "owner", "username": "pleb", "scope": "GENERAL"})
    assert r.status_code == 200
    assert (await db["rocketchat_subscription"].find_one({"_id": "sub1"}))["roles"] == []
