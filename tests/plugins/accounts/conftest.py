"""Accounts test fixtures: a server with the accounts plugin and cheap bcrypt."""
from __future__ import annotations

import pytest

FAST_BCRYPT = {"ORBITCHAT_BCRYPT_ROUNDS": "4"}


@pytest.fixture
async def accounts_server(server_factory):
    return await server_factory(plugins=("settings", "accounts"), env=dict(FAST_BCRYPT))


@pytest.fixture
async def full_server(server_factory):
    """accounts with the real authorization service (permissions seeded with Rocket.Chat's defaults)."""
    return await server_factory(plugins=("settings", "accounts", "authorization"), env=dict(FAST_BCRYPT))
