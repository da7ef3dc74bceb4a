"""Rooms test fixtures: a server with settings, accounts, authorization and rooms, users with tokens, and a
small REST helper that speaks as one of them."""
from __future__ import annotations

import pytest

from tests.callers import Caller, EventLog, caller, settle  # noqa: F401  (test modules import these from here)
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


@pytest.fixture
async def events(srv) -> EventLog:
    return await EventLog().attach(srv, "watch.rooms", "watch.subscriptions", "user.roleUpdate",
                                   "notify.messagesRead", "notify.ephemeralMessage")
