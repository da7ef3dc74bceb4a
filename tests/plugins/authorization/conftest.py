"""Fixtures for authorization tests: an app with settings + authorization and a minimal token check.

The token check is a tiny test plugin implementing `provide_user_by_token` over the `users` documents that
`tests.users.create_user` inserts, so these tests depend only on the plugins they exercise.
The route walk (test_route_walk.py) uses every installed plugin and the real accounts plugin instead.
"""
from __future__ import annotations

from typing import Any

import pytest

from core import hookimpl


class TokenAuth:
    """Test double for the accounts plugin's token lookup."""

    name = "test_token_auth"

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        self.users = api.db["users"]

    @hookimpl
    async def provide_user_by_token(self, user_id: str, hashed_token: str) -> dict | None:
        return await self.users.find_one(
            {"_id": user_id, "active": True, "services.resume.loginTokens.hashedToken": hashed_token},
            {"services": 0})


@pytest.fixture
async def authz(server_factory):
    """A running server with settings, authorization and the test token check."""
    return await server_factory(plugins=("settings", "authorization", TokenAuth()))
