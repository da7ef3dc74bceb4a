"""Messaging test fixtures: a server with settings, accounts, authorization, rooms and messaging, users with
tokens, a REST helper speaking as one of them, and a recorder of broker events."""
from __future__ import annotations

from typing import Any

import pytest

# The cast fixtures (admin, alice, bob, carol), and what test modules import from here:
from tests.callers import Caller, EventLog, admin, alice, bob, caller, carol, settle  # noqa: F401

PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging")
ENV = {"ORBITCHAT_BCRYPT_ROUNDS": "4"}


async def make_server(server_factory: Any, *extra_plugins: Any, env: dict | None = None) -> Any:
    return await server_factory(plugins=(*PLUGINS, *extra_plugins), env={**ENV, **(env or {})})


@pytest.fixture
async def srv(server_factory):
    return await make_server(server_factory)






@pytest.fixture
async def events(srv) -> EventLog:
    return await EventLog().attach(srv, "watch.messages", "notify.deleteMessage", "notify.ephemeralMessage")
