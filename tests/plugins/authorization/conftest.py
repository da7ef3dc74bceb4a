"""Fixtures for authorization tests: an app with settings + authorization and a minimal token check.

The token check is a tiny test plugin implementing `provide_user_by_token` over the `users` documents that
`tests.users.create_user` inserts, so these tests depend only on the plugins they exercise.
The route walk (test_route_walk.py) uses every installed plugin and the real accounts plugin instead.
"""
from __future__ import annotations

from typing import Any

import pytest

from core import hookimpl
from core.ddp import DdpMethod, MethodInvocation
from core.errors import ApiError
from core.security import hash_token

RESUME = {"type": "array", "minItems": 1, "maxItems": 1, "prefixItems": [
    {"type": "object", "properties": {"resume": {"type": "string", "maxLength": 200}}, "required": ["resume"],
     "additionalProperties": False}]}


class TokenAuth:
    """Test double for the accounts plugin's token lookup and resume login."""

    name = "test_token_auth"

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        self.users = api.db["users"]

    @hookimpl
    def register_ddp_methods(self) -> list:
        return [DdpMethod("login", self.login, auth=False, params=RESUME)]

    async def login(self, inv: MethodInvocation, params: dict) -> dict:
        """DDP `login` with a resume token only: enough for method tests."""
        hashed = hash_token(params["resume"])
        user = await self.users.find_one({"services.resume.loginTokens.hashedToken": hashed}, {"services": 0})
        if user is None:
            raise ApiError("You've been logged out by the server. Please log in again.", "403", status=403)
        inv.set_user(user, hashed)
        return {"id": user["_id"], "token": params["resume"]}

    @hookimpl
    async def provide_user_by_token(self, user_id: str, hashed_token: str) -> dict | None:
        return await self.users.find_one(
            {"_id": user_id, "active": True, "services.resume.loginTokens.hashedToken": hashed_token},
            {"services": 0})


@pytest.fixture
async def authz(server_factory):
    """A running server with settings, authorization and the test token check."""
    return await server_factory(plugins=("settings", "authorization", TokenAuth()))
