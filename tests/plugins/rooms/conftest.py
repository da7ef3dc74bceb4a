"""Rooms test fixtures: a server with settings, accounts, authorization and rooms, users with tokens, and a
small REST helper that speaks as one of them."""
from __future__ import annotations

import pytest

# The cast fixtures (admin, alice, bob, carol), and what test modules import from here:
from tests.callers import Caller, EventLog, admin, alice, bob, caller, carol, settle  # noqa: F401

PLUGINS = ("settings", "accounts", "authorization", "rooms")


@pytest.fixture
async def srv(server_factory):
    return await server_factory(plugins=PLUGINS, env={"ORBITCHAT_BCRYPT_ROUNDS": "4"})






@pytest.fixture
async def events(srv) -> EventLog:
    return await EventLog().attach(srv, "watch.rooms", "watch.subscriptions", "user.roleUpdate",
                                   "notify.messagesRead", "notify.ephemeralMessage")
