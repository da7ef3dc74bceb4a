"""The permission sweep: with every installed plugin loaded, every REST route and DDP method that declares
a permission the `user` role lacks by default refuses an ordinary user (403 / `error-action-not-allowed`),
and every route or method that needs a login refuses an anonymous caller (401).

The walk reads the live route table and method registry, so it covers routes other plugins add later.
"""
from __future__ import annotations

import re

import pytest

from core.lock import discover
from tests.users import create_user

DUMMY = "dummyValue1234567"
FORBIDDEN_TEXT = "User does not have the permissions required for this action [error-unauthorized]"


@pytest.fixture
async def everything(server_factory):
    srv = await server_factory(plugins=tuple(sorted(discover())))
    user = await create_user(srv, "plainuser", roles=("user",))
    return srv, user


async def user_grants(srv) -> set[str]:
    """Permissions the `user` role holds in the seeded table."""
    cursor = srv.kernel.db["rocketchat_permissions"].find({"roles": "user"}, {"_id": 1})
    return {d["_id"] async for d in cursor}


def refused_for_user(declared_all: tuple[str, ...], declared_any: tuple[str, ...], grants: set[str]) -> bool:
    lacks_one = any(p not in grants for p in declared_all)
    lacks_any = bool(declared_any) and not any(p in grants for p in declared_any)
    return lacks_one or lacks_any


def concrete(path: str) -> str:
    return re.sub(r":[A-Za-z_][A-Za-z0-9_]*", DUMMY, path)


async def send(srv, method: str, path: str, headers: dict | None = None):
    if method in ("GET", "HEAD", "DELETE"):
        return await srv.http.request(method, path, headers=headers)
    return await srv.http.request(method, path, headers=headers, json={})


async def test_every_permissioned_route_refuses_an_ordinary_user(everything):
    srv, user = everything
    grants = await user_grants(srv)
    assert "create-c" in grants and "access-permissions" not in grants   # the table is seeded
    checked, failures = [], []
    for route in srv.kernel.routes:
        if not route.auth or not refused_for_user(route.permissions, route.any_permission, grants):
            continue
        for method in route.methods:
            r = await send(srv, method, concrete(route.full_path), user.headers)
            checked.append(f"{method} {route.full_path}")
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            if r.status_code != 403 or body.get("success") is not False or body.get("error") != FORBIDDEN_TEXT:
                failures.append(f"{method} {route.full_path} ({route.owner}): {r.status_code} {r.text[:200]}")
    assert not failures, "\n".join(failures)
    assert "POST /api/v1/permissions.update" in checked and "POST /api/v1/roles.create" in checked


async def test_every_permissioned_ddp_method_refuses_an_ordinary_user(everything):
    srv, user = everything
    grants = await user_grants(srv)
    ddp = await srv.ddp()
    login = await ddp.login(user.token)
    assert "result" in login, login
    checked, failures = [], []
    for name, method in sorted(srv.kernel.ddp.methods.items()):
        if not refused_for_user(method.permissions, (), grants):
            continue
        res = await ddp.call(name)
        checked.append(name)
        if (res.get("error") or {}).get("error") != "error-action-not-allowed":
            failures.append(f"{name} ({method.owner}): {res}")
    assert not failures, "\n".join(failures)
    assert "authorization:addUserToRole" in checked


async def test_every_auth_route_refuses_anonymous_and_bad_tokens(everything):
    srv, user = everything
    failures, checked = [], 0
    for route in srv.kernel.routes:
        if not route.auth:
            continue
        for method in route.methods:
            checked += 1
            path = concrete(route.full_path)
            for headers in (None, {"X-User-Id": user.id, "X-Auth-Token": "not-the-token"}):
                r = await send(srv, method, path, headers)
                if r.status_code != 401 or r.json().get("success") is not False:
                    failures.append(f"{method} {route.full_path} ({route.owner}) {headers}: {r.status_code}")
    assert not failures, "\n".join(failures)
    assert checked > 5


async def test_every_auth_ddp_method_refuses_anonymous(everything):
    srv, _ = everything
    ddp = await srv.ddp()
    failures = []
    for name, method in sorted(srv.kernel.ddp.methods.items()):
        if not method.auth:
            continue
        res = await ddp.call(name)
        if (res.get("error") or {}).get("error") != 401:
            failures.append(f"{name} ({method.owner}): {res}")
    assert not failures, "\n".join(failures)


async def test_admin_passes_the_permission_gate(everything):
    """Control: the 403s above come from the permission declarations, not from the dummy input — a caller
    holding the declared permissions is let through to the handler (whatever the handler then answers)."""
    srv, _ = everything
    admin = await create_user(srv, "walkadmin", roles=("admin",))
    cursor = srv.kernel.db["rocketchat_permissions"].find({"roles": "admin"}, {"_id": 1})
    admin_grants = {d["_id"] async for d in cursor}
    gated = []
    for route in srv.kernel.routes:
        if not route.auth or not (route.permissions or route.any_permission):
            continue
        if refused_for_user(route.permissions, route.any_permission, admin_grants):
            continue
        method = route.methods[0]
        r = await send(srv, method, concrete(route.full_path), admin.headers)
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        if r.status_code == 403 and body.get("error") == FORBIDDEN_TEXT:
            gated.append(f"{method} {route.full_path} ({route.owner})")
    assert not gated, "\n".join(gated)


async def test_every_declared_permission_is_in_the_table(everything):
    """A permission a route or method declares must exist in `rocketchat_permissions` (seeded from
    Rocket.Chat's table or a plugin's `register_permissions`), or no admin could ever grant it."""
    srv, _ = everything
    known = {d["_id"] async for d in srv.kernel.db["rocketchat_permissions"].find({}, {"_id": 1})}
    declared = {(p, f"{r.key} ({r.owner})") for r in srv.kernel.routes for p in r.permissions + r.any_permission}
    declared |= {(p, f"DDP {m.name} ({m.owner})") for m in srv.kernel.ddp.methods.values() for p in m.permissions}
    unknown = sorted(f"{p}: {where}" for p, where in declared if p not in known)
    assert not unknown, "\n".join(unknown)
