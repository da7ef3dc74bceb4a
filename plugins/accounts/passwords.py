"""Password storage as Rocket.Chat (Meteor accounts-password) does it: bcrypt over the lowercase hex SHA-256
of the password. A DDP client sends that digest itself; a REST client sends the plain password and the
server digests it, so both check the same stored hash.

bcrypt runs in a worker thread (the library releases the GIL): a login never stalls the event loop.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets

import bcrypt

DEFAULT_ROUNDS = 10
HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


class Passwords:
    def __init__(self, rounds: int = DEFAULT_ROUNDS) -> None:
        self.rounds = max(4, min(31, rounds))
        # Checked against when the user is unknown, so "no such user" costs what "wrong password" costs.
        self._dummy = bcrypt.hashpw(digest(secrets.token_hex(16)).encode(), bcrypt.gensalt(self.rounds))

    async def hash(self, password_digest: str) -> str:
        salt = bcrypt.gensalt(self.rounds)
        hashed = await asyncio.to_thread(bcrypt.hashpw, password_digest.encode(), salt)
        return hashed.decode()

    async def hash_plain(self, password: str) -> str:
        return await self.hash(digest(password))

    async def check(self, password_digest: str, stored: str | None) -> bool:
        """Constant-shape check: always one bcrypt comparison, even without a stored hash."""
        target = stored.encode() if stored else self._dummy
        try:
            ok = await asyncio.to_thread(bcrypt.checkpw, password_digest.lower().encode(), target)
        except ValueError:  # malformed stored hash
            ok = False
        return ok and stored is not None

    async def burn(self) -> None:
        """Spend one comparison's time (unknown user)."""
        await self.check(digest(secrets.token_hex(8)), None)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def generate_password(length: int = 20) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))
