"""Token hashing shared by REST and DDP auth: Rocket.Chat stores `base64(sha256(token))`."""
from __future__ import annotations

import base64
import hashlib
import secrets


def hash_token(token: str) -> str:
    return base64.b64encode(hashlib.sha256(token.encode()).digest()).decode()


def new_token() -> str:
    """A login token: 43 url-safe characters (256 bits), like Meteor's `Random.secret()`. Never starting with
    `-`, which command lines (`--token <value>`) would take for an option."""
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token
