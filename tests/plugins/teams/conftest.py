"""Teams test fixtures: a server with the services teams builds on, users with tokens, a REST helper that
speaks as one of them, and `settle` for the background work (hooks, subscription announcements)."""
from __future__ import annotations

from typing import Any

import pytest

# The cast fixtures (admin, alice, bob, carol), and what test modules import from here:
from tests.callers import Caller, EventLog, admin, alice, bob, caller, carol  # noqa: F401
from tests.callers import settle as _settle

PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging", "teams")


@pytest.fixture
async def srv(server_factory):
    return await server_factory(plugins=PLUGINS)






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
