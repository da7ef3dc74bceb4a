"""Test users: Rocket.Chat-shaped user documents inserted directly, with a login token.

The accounts plugin must be loaded for the token to authenticate (it implements `provide_user_by_token`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import bcrypt

from core.context import random_id
from core.security import hash_token, new_token


@dataclass
class TestUser:
    __test__ = False   # not a pytest test class

    id: str
    username: str
    token: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-User-Id": self.id, "X-Auth-Token": self.token}


def password_hash(password: str) -> str:
    digest = hashlib.sha256(password.encode()).hexdigest()
    return bcrypt.hashpw(digest.encode(), bcrypt.gensalt(rounds=4)).decode()


async def create_user(srv: Any, username: str, roles=("user",), password: str = "secret-pass",
                      name: str | None = None, active: bool = True) -> TestUser:
    """Insert a user into `srv.kernel.db` (any object with a kernel) and return its login token."""
    now = datetime.now(UTC)
    token = new_token()
    uid = random_id()
    await srv.kernel.db["users"].insert_one({
        "_id": uid, "username": username, "name": name or username.title(), "type": "user",
        "emails": [{"address": f"{username}@example.org", "verified": True}],
        "active": active, "roles": list(roles), "status": "offline", "statusConnection": "offline",
        "statusDefault": "online", "utcOffset": 0, "createdAt": now, "_updatedAt": now,
        "services": {"password": {"bcrypt": password_hash(password)},
                     "resume": {"loginTokens": [{"when": now, "hashedToken": hash_token(token)}]}},
    })
    return TestUser(uid, username, token, password)
