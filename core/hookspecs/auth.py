"""Authentication and authorization hooks the kernel consults on every request and DDP call."""
from __future__ import annotations

from typing import Any

from core.hookspecs import hookspec


@hookspec
async def provide_user_by_token(user_id: str, hashed_token: str) -> dict | None:
    """Return the active user owning this login token (`base64(sha256(token))`), or None.

    First non-None answer wins. With no implementation every authenticated route answers 401.
    The returned dict carries at least `_id`, `username`, `roles`.
    """


@hookspec
async def provide_permission_check(user: dict, permission: str, rid: str | None) -> bool | None:
    """Answer whether `user` holds `permission` (globally, or within room `rid`).

    First non-None answer wins. None from every implementation means "nobody decided" and the kernel
    denies: a declared permission is never granted by default.
    """


@hookspec
async def provide_authentication(credentials: dict, ctx: Any) -> dict | None:
    """Authenticate a login request the built-in password check does not handle (LDAP, OAuth, ...).

    Return `{"user_id": ...}` to accept, `{"error": code, "reason": text}` to refuse, None for no opinion.
    """
