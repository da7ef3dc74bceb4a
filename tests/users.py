"""Test users: RC-shaped user documents inserted directly, with a login token, for tests of other services.

The accounts plugin must be loaded for the token to authenticate (it implements `provide_user_by_token`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

import bcrypt

from core.context import random_id
from core.security import hash_token, new_token


@dataclass
class TestUser:
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


async def create_user(srv, username: str, roles=("user",), password: str = "secret-pass",
                      name: str | None = None, active: bool = True) -> TestUser:
    now = datetime.now(timezone.utc)
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
