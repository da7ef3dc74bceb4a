"""Messaging test fixtures: a server with settings, accounts, authorization, rooms and messaging, users with
tokens, a REST helper speaking as one of them, and a recorder of broker events."""
from __future__ import annotations

from typing import Any

import pytest

from tests.callers import Caller
from tests.users import create_user

PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging")
ENV = {"ORBITCHAT_BCRYPT_ROUNDS": "4"}


async def make_server(server_factory: Any, *extra_plugins: Any, env: dict | None = None) -> Any:
    return await server_factory(plugins=(*PLUGINS, *extra_plugins), env={**ENV, **(env or {})})


@pytest.fixture
async def srv(server_factory):
    return await make_server(server_factory)


async def caller(srv: Any, username: str, roles: tuple[str, ...] = ("user",), name: str | None = None) -> Caller:
    return Caller(srv, await create_user(srv, username, roles=roles, name=name))


@pytest.fixture
async def alice(srv) -> Caller:
    return await caller(srv, "alice", name="Alice Liddell")


@pytest.fixture
async def bob(srv) -> Caller:
    return await caller(srv, "bob", name="Bob")


@pytest.fixture
async def carol(srv) -> Caller:
    return await caller(srv, "carol", name="Carol")


@pytest.fixture
async def admin(srv) -> Caller:
    return await caller(srv, "boss", roles=("admin", "user"))


class EventLog:
    """Broker events by name, as the rooms service and ddp_streamer receive them."""

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
    return await EventLog().attach(srv, "watch.messages", "notify.deleteMessage", "notify.ephemeralMessage")


async def settle(srv: Any) -> None:
    """Let background work finish: post hooks and the rooms service's announcements."""
    rooms = srv.kernel.pm.get_plugin("rooms")
    if rooms is not None:
        await rooms.service.store.drain()
    await srv.kernel.hooks.drain()
