"""Teams test fixtures: a server with the services teams builds on, users with tokens, a REST helper that
speaks as one of them, and `settle` for the background work (hooks, subscription announcements)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.callers import Caller
from tests.users import create_user

PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging", "teams")


@pytest.fixture
async def srv(server_factory):
    return await server_factory(plugins=PLUGINS)


async def caller(srv: Any, username: str, **kw: Any) -> Caller:
    return Caller(srv, await create_user(srv, username, **kw))


@pytest.fixture
async def admin(srv) -> Caller:
    return await caller(srv, "boss", roles=("admin", "user"))


@pytest.fixture
async def alice(srv) -> Caller:
    return await caller(srv, "alice", name="Alice Liddell")


@pytest.fixture
async def bob(srv) -> Caller:
    return await caller(srv, "bob", name="Bob")


@pytest.fixture
async def carol(srv) -> Caller:
    return await caller(srv, "carol", name="Carol")


async def settle(srv: Any) -> None:
    """Let background work finish: hook notifications (team membership follows the main room) and the rooms
    service's subscription announcements."""
    for _ in range(3):
        await srv.kernel.hooks.drain()
        await srv.kernel.pm.get_plugin("rooms").service.store.drain()


async def make_team(creator: Caller, name: str = "crew", kind: int = 0, **extra: Any) -> dict:
    return (await creator.ok("POST", "teams.create", name=name, type=kind, **extra))["team"]


async def room_of(srv: Any, rid: str) -> dict | None:
    return await srv.kernel.db["rocketchat_room"].find_one({"_id": rid})


async def sub_of(srv: Any, rid: str, uid: str) -> dict | None:
    return await srv.kernel.db["rocketchat_subscription"].find_one({"rid": rid, "u._id": uid})


async def member_ids(owner: Caller, team_id: str) -> dict[str, list]:
    body = await owner.ok("GET", "teams.members", teamId=team_id)
    return {m["user"]["username"]: m.get("roles") for m in body["members"]}
