"""Teams test fixtures: a server with the services teams builds on, users with tokens, a REST helper that
speaks as one of them, and `settle` for the background work (hooks, subscription announcements)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.users import TestUser, create_user

PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging", "teams")


@dataclass
class Caller:
    """REST calls as one user: `await alice.post("teams.create", name="x", type=0)` -> httpx response."""

    srv: Any
    user: TestUser

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username

    async def get(self, path: str, **params: Any) -> Any:
        return await self.srv.http.get(f"/api/v1/{path}", params=params, headers=self.user.headers)

    async def post(self, path: str, body: Any = None, **fields: Any) -> Any:
        return await self.srv.http.post(f"/api/v1/{path}", json=body if body is not None else fields,
                                        headers=self.user.headers)

    async def ok(self, method: str, path: str, **kw: Any) -> dict:
        r = await (self.get(path, **kw) if method == "GET" else self.post(path, **kw))
        assert r.status_code == 200, (path, r.status_code, r.text)
        body = r.json()
        assert body["success"] is True
        return body

    async def fails(self, method: str, path: str, status: int = 400, **kw: Any) -> dict:
        r = await (self.get(path, **kw) if method == "GET" else self.post(path, **kw))
        assert r.status_code == status, (path, r.status_code, r.text)
        body = r.json()
        assert body["success"] is False
        return body


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
