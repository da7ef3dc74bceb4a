"""The small frozen context every handler and hook receives instead of a server object."""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"


_LIMIT = 256 - 256 % len(_ID_ALPHABET)   # bytes at or above this would bias the alphabet: skipped
# byte -> alphabet character, and the bytes to drop, for one C-level `bytes.translate` per id
_ID_TABLE = bytes(ord(_ID_ALPHABET[b % len(_ID_ALPHABET)]) for b in range(256))
_ID_BIASED = bytes(range(_LIMIT, 256))


def random_id(length: int = 17) -> str:
    """Meteor's `Random.id()`: 17 characters from an unambiguous alphabet (Rocket.Chat's `_id` format).

    One `token_bytes` call mapped by `bytes.translate` (biased bytes dropped) instead of a `secrets.choice`
    per character: ids are made on every request."""
    out = b""
    while len(out) < length:
        out += secrets.token_bytes(length + 8).translate(_ID_TABLE, _ID_BIASED)
    return out[:length].decode()


@dataclass(frozen=True)
class Context:
    """Who is acting, over what, and for which request."""

    user: Mapping[str, Any] | None = None
    token_hash: str | None = None
    ip: str | None = None
    request_id: str = field(default_factory=lambda: random_id(12))
    connection_id: str | None = None   # DDP session id when the call came over a websocket
    transport: str = "rest"            # "rest" | "ddp" | "internal"
    locale: str = "en"
    user_agent: str | None = None

    @property
    def user_id(self) -> str | None:
        return self.user.get("_id") if self.user else None

    @property
    def username(self) -> str | None:
        return self.user.get("username") if self.user else None

    @property
    def roles(self) -> list[str]:
        return list(self.user.get("roles") or []) if self.user else []

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @classmethod
    def internal(cls, user: Mapping[str, Any] | None = None) -> Context:
        return cls(user=user, transport="internal")
