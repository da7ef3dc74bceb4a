"""Rooms test fixtures: a server with settings, accounts, authorization and rooms, users with tokens, and a
small REST helper that speaks as one of them."""
from __future__ import annotations

from typing import Any

import pytest

from tests.callers import Caller
from tests.users import create_user

PLUGINS = ("settings", "accounts", "authorization", "rooms")


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
