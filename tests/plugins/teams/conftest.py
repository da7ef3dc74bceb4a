"""Teams test fixtures: a server with the services teams builds on, users with tokens, a REST helper that
speaks as one of them, and `settle` for the background work (hooks, subscription announcements)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.callers import Caller, EventLog, caller  # noqa: F401  (test modules import these from here)
from tests.callers import settle as _settle

PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging", "teams")


@pytest.fixture
async def srv(server_factory):
    return await server_factory(plugins=PLUGINS)


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


async def make_team(creator: Caller, name: str = "crew", kind: int = 0, **extra: Any) -> dict:
    return (await creator.ok("POST", "teams.create", name=name, type=kind, **extra))["team"]


async def room_of(srv: Any, rid: str) -> dict | None:
    return await srv.kernel.db["rocketchat_room"].find_one({"_id": rid})


async def sub_of(srv: Any, rid: str, uid: str) -> dict | None:
    return await srv.kernel.db["rocketchat_subscription"].find_one({"rid": rid, "u._id": uid})


async def member_ids(owner: Caller, team_id: str) -> dict[str, list]:
    body = await owner.ok("GET", "teams.members", teamId=team_id)
    return {m["user"]["username"]: m.get("roles") for m in body["members"]}


async def settle(srv: Any) -> None:
    """Team membership follows the main room in background work that itself starts more: three rounds."""
    await _settle(srv, rounds=3)
