"""`Caller`: REST and DDP as one test user, shared by the service test suites."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.users import TestUser


@dataclass
class Caller:
    """`await alice.ok("POST", "channels.create", name="x")`, `await bob.fails("GET", "x.info", 403, id=...)`."""

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

    async def _call(self, method: str, path: str, body: Any, kw: dict) -> Any:
        return await (self.get(path, **kw) if method == "GET" else self.post(path, body, **kw))

    async def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> dict:
        r = await self._call(method, path, body, kw)
        assert r.status_code == 200, (path, r.status_code, r.text)
        data = r.json()
        assert data["success"] is True
        return data

    async def fails(self, method: str, path: str, body_or_status: Any = None, status: int = 400,
                    **kw: Any) -> dict:
        """The third argument is the expected status when an int, else the JSON body."""
        body = None
        if isinstance(body_or_status, int):
            status = body_or_status
        else:
            body = body_or_status
        r = await self._call(method, path, body, kw)
        assert r.status_code == status, (path, r.status_code, r.text)
        data = r.json()
        assert data["success"] is False
        return data

    async def ddp(self) -> Any:
        client = await self.srv.ddp()
        reply = await client.login(self.user.token)
        assert "result" in reply, reply
        return client

    async def send(self, rid: str, text: str, **extra: Any) -> dict:
        return (await self.ok("POST", "chat.sendMessage", {"message": {"rid": rid, "msg": text, **extra}}))["message"]

    async def channel(self, name: str, members: tuple[str, ...] = (), **extra: Any) -> dict:
        return (await self.ok("POST", "channels.create", name=name, members=list(members), **extra))["channel"]

    async def group(self, name: str, members: tuple[str, ...] = (), **extra: Any) -> dict:
        return (await self.ok("POST", "groups.create", name=name, members=list(members), **extra))["group"]


async def caller(srv: Any, username: str, **kw: Any) -> Caller:
    """A new user (tests/users.create_user keywords: roles, name, password, ...) as a Caller."""
    from tests.users import create_user
    return Caller(srv, await create_user(srv, username, **kw))


# The usual cast, as fixtures over the suite's own `srv` (a conftest imports the ones it uses).
@pytest.fixture
async def admin(srv: Any) -> Caller:
    return await caller(srv, "boss", roles=("admin", "user"))


@pytest.fixture
async def alice(srv: Any) -> Caller:
    return await caller(srv, "alice", name="Alice Liddell")


@pytest.fixture
async def bob(srv: Any) -> Caller:
    return await caller(srv, "bob", name="Bob")


@pytest.fixture
async def carol(srv: Any) -> Caller:
    return await caller(srv, "carol", name="Carol")


async def settle(srv: Any, rounds: int = 1) -> None:
    """Let background work finish: hook notifications and the rooms service's announcements. Several rounds
    when one piece of background work starts another (team membership following the main room)."""
    rooms = srv.kernel.pm.get_plugin("rooms")
    for _ in range(rounds):
        if rooms is not None:
            await rooms.service.store.drain()
        await srv.kernel.hooks.drain()


class EventLog:
    """Broker events by name, for assertions on what a service announced."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    async def attach(self, srv: Any, *names: str) -> EventLog:
        for name in names:
            await srv.kernel.broker.subscribe(name, lambda payload, n=name: self.events.append((n, payload)))
        return self

    def of(self, name: str) -> list[Any]:
        return [p for n, p in self.events if n == name]
