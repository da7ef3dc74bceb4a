"""provide_permission_check: default roles and permissions seeded, global and room-scoped roles, cache refresh."""
from __future__ import annotations

from tests.users import create_user


async def test_default_roles_and_permissions_are_seeded(authz):
    db = authz.kernel.db
    roles = {r["_id"]: r async for r in db["rocketchat_roles"].find({})}
    for rid in ("admin", "moderator", "leader", "owner", "user", "bot", "app", "guest", "anonymous",
                "livechat-agent", "livechat-manager", "livechat-monitor"):
        assert roles[rid]["name"] == rid and roles[rid]["protected"] is True
    assert roles["owner"]["scope"] == "Subscriptions" and roles["admin"]["scope"] == "Users"
    assert roles["admin"]["description"] == "Admin" and roles["admin"]["mandatory2fa"] is False
    perms = {p["_id"]: p async for p in db["rocketchat_permissions"].find({})}
    assert len(perms) > 150
    assert perms["view-c-room"]["roles"] == ["admin", "user", "bot", "app", "anonymous"]
    assert perms["access-permissions"]["roles"] == ["admin"]
    assert perms["add-user-to-any-p-room"]["roles"] == []
    assert perms["view-c-room"]["_updatedAt"] is not None


async def test_global_roles_decide(authz):
    k = authz.kernel
    assert await k.has_permission({"_id": "u1", "roles": ["user"]}, "create-c") is True
    assert await k.has_permission({"_id": "u1", "roles": ["user"]}, "access-permissions") is False
    assert await k.has_permission({"_id": "u1", "roles": ["admin"]}, "access-permissions") is True
    assert await k.has_permission({"_id": "u1", "roles": ["user"]}, "no-such-permission") is False
    assert await k.has_permission({"_id": "u1"}, "create-c") is False
    assert await k.has_permission(None, "create-c") is False


async def test_room_scoped_roles_come_from_the_subscription(authz):
    k = authz.kernel
    await k.db["rocketchat_subscription"].insert_one(
        {"_id": "s1", "rid": "room1", "u": {"_id": "u1", "username": "u1"}, "roles": ["owner"]})
    user = {"_id": "u1", "roles": ["user"]}
    assert await k.has_permission(user, "delete-c", "room1") is True       # owner of room1
    assert await k.has_permission(user, "delete-c", "room2") is False      # not elsewhere
    assert await k.has_permission(user, "delete-c") is False               # nor globally
    assert await k.has_permission({"_id": "u2", "roles": ["user"]}, "delete-c", "room1") is False


async def test_cache_follows_permission_changed(authz):
    k = authz.kernel
    user = {"_id": "u1", "roles": ["user"]}
    assert await k.has_permission(user, "view-statistics") is False
    # Another process changed the table and announced it: this process must follow.
    await k.db["rocketchat_permissions"].update_one({"_id": "view-statistics"}, {"$push": {"roles": "user"}})
    await k.broker.emit("permission.changed", {"clientAction": "updated", "data": {"_id": "view-statistics"}})
    assert await k.has_permission(user, "view-statistics") is True


async def test_seeding_keeps_admin_edits_and_adds_declared_permissions(server_factory, mongo_url, db_name):
    from core import hookimpl

    class Declares:
        name = "declares"

        @hookimpl
        def register_permissions(self):
            return [{"_id": "orbit-test-perm", "roles": ["user"]}, {"_id": "view-c-room", "roles": ["admin"]}]

    srv = await server_factory(plugins=("settings", "authorization", Declares()))
    perms = srv.kernel.db["rocketchat_permissions"]
    assert (await perms.find_one({"_id": "orbit-test-perm"}))["roles"] == ["user"]
    # Rocket.Chat's table wins over a plugin re-declaring one of its permissions.
    assert (await perms.find_one({"_id": "view-c-room"}))["roles"][0:2] == ["admin", "user"]
    await perms.update_one({"_id": "create-c"}, {"$set": {"roles": ["admin"]}})
    await srv.stop()
    again = await server_factory(plugins=("settings", "authorization", Declares()))
    assert (await again.kernel.db["rocketchat_permissions"].find_one({"_id": "create-c"}))["roles"] == ["admin"]
    assert await again.kernel.has_permission({"_id": "x", "roles": ["user"]}, "create-c") is False


async def test_kernel_enforcement_over_http(authz):
    """/api/info shows the plugin set only to callers holding view-statistics (admin)."""
    admin = await create_user(authz, "boss", roles=("admin",))
    plain = await create_user(authz, "pleb", roles=("user",))
    r = await authz.http.get("/api/info", headers=admin.headers)
    assert r.status_code == 200 and "authorization" in r.json()["info"]["plugins"]
    r = await authz.http.get("/api/info", headers=plain.headers)
    assert r.status_code == 200 and "info" not in r.json()


async def test_broker_actions_answer_by_user_id(authz):
    broker = authz.kernel.broker
    plain = await create_user(authz, "pleb", roles=("user",))
    assert await broker.call("authorization.has_permission", plain.id, "create-c") is True
    assert await broker.call("authorization.has_permission", plain.id, "create-user") is False
    assert await broker.call("authorization.has_permission", "nobody", "create-c") is False
    assert await broker.call("authorization.has_all", plain.id, ["create-c", "create-p"]) is True
    assert await broker.call("authorization.has_all", plain.id, ["create-c", "create-user"]) is False
    assert await broker.call("authorization.has_at_least_one", plain.id, ["create-user", "create-c"]) is True
    assert await broker.call("authorization.has_at_least_one", plain.id, ["create-user"]) is False
    assert await broker.call("authorization.has_at_least_one", plain.id, []) is False


async def test_a_permission_seeded_by_another_process_is_found(authz):
    """Another process may run a plugin this one does not and seed its permission: a cache miss reads it."""
    k = authz.kernel
    user = {"_id": "u1", "roles": ["user"]}
    assert await k.has_permission(user, "other-process-perm") is False
    await k.db["rocketchat_permissions"].insert_one({"_id": "other-process-perm", "roles": ["user"]})
    authz_plugin = k.pm.get_plugin("authorization")
    authz_plugin.service._absent.clear()   # skip the few seconds a miss is remembered
    assert await k.has_permission(user, "other-process-perm") is True


async def test_another_plugin_may_answer_first(server_factory):
    """The built-in check is `trylast`: a plugin answering provide_permission_check wins over it."""
    from core import hookimpl

    class Policy:
        name = "policy"

        @hookimpl
        async def provide_permission_check(self, user, permission, rid):
            return True if permission == "view-statistics" and user.get("username") == "auditor" else None

    srv = await server_factory(plugins=("settings", "authorization", Policy()))
    k = srv.kernel
    assert await k.has_permission({"_id": "a", "username": "auditor", "roles": ["user"]}, "view-statistics")
    assert not await k.has_permission({"_id": "b", "username": "other", "roles": ["user"]}, "view-statistics")
    assert not await k.has_permission({"_id": "a", "username": "auditor", "roles": ["user"]}, "delete-user")


async def test_role_names_are_unique_in_the_database(authz):
    import pymongo.errors
    import pytest

    with pytest.raises(pymongo.errors.DuplicateKeyError):
        await authz.kernel.db["rocketchat_roles"].insert_one({"_id": "other-id", "name": "admin"})
