"""Rooms test fixtures: a server with settings, accounts, authorization and rooms, users with tokens, and a
small REST helper that speaks as one of them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.users import TestUser, create_user

PLUGINS = ("settings", "accounts", "authorization", "rooms")


@dataclass
class Caller:
    """REST calls as one user: `await alice.post("channels.create", name="x")` -> httpx response."""

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

    async def ddp(self) -> Any:
        client = await self.srv.ddp()
        reply = await client.login(self.user.token)
        assert "result" in reply, reply
        return client


@pytest.fixture
async def srv(server_factory):
    return await server_factory(plugins=PLUGINS, env={"ORBITCHAT_BCRYPT_ROUNDS": "4"})


@pytest.fixture
async def admin(srv) -> Caller:
    return Caller(srv, await create_user(srv, "boss", roles=("admin", "user")))


@pytest.fixture
async def alice(srv) -> Caller:
    return Caller(srv, await create_user(srv, "alice", name="Alice Liddell"))


@pytest.fixture
async def bob(srv) -> Caller:
    return Caller(srv, await create_user(srv, "bob", name="Bob"))


@pytest.fixture
async def carol(srv) -> Caller:
    return Caller(srv, await create_user(srv, "carol", name="Carol"))


class EventLog:
    """Records broker events by name, for assertions on what the rooms service announced."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    async def attach(self, srv: Any, *names: str) -> EventLog:
        for name in names:
            await srv.kernel.broker.subscribe(name, lambda payload, n=name: self.events.append((n, payload)))
        return self

    def of(self, name: str) -> list[Any]:
        return [p for n, p in self.events if n == name]


@pytest.fixture
async def events(srv) -> EventLog:
    return await EventLog().attach(srv, "watch.rooms", "watch.subscriptions", "user.roleUpdate",
                                   "notify.messagesRead", "notify.ephemeralMessage")


async def settle(srv: Any) -> None:
    """Let background work finish: hook notifications and subscription announcements."""
    plugin = srv.kernel.pm.get_plugin("rooms")
    await plugin.service.store.drain()
    await srv.kernel.hooks.drain()
