"""Test helpers: an OrbitChat server running in the test's event loop, a small DDP client (both shared with
app authors' fixtures in apps_sdk.testing), and a static auth plugin for kernel tests."""
from __future__ import annotations

from typing import Any

from apps_sdk.testing.ddp import DdpClient
from apps_sdk.testing.server import FAST_LIMITS, RunningServer, start_server
from core import hookimpl

__all__ = ["FAST_LIMITS", "DdpClient", "RunningServer", "StaticAuth", "start_server"]


class StaticAuth:
    """Test plugin: a fixed set of users with login tokens, and permissions granted per role.

    It implements the two auth hooks the kernel consults, so tests of the kernel and of single services
    get authenticated callers without the accounts and authorization plugins. `grants` maps a role to the
    permissions it holds; `"*"` grants every permission. Ungranted permissions get no opinion (None), so
    the kernel's own default (deny) decides.
    """

    def __init__(self, grants: dict[str, set[str] | frozenset[str]] | None = None,
                 name: str = "static_auth") -> None:
        self.name = name
        self.grants = {role: set(perms) for role, perms in (grants or {"admin": {"*"}}).items()}
        self._users: dict[str, tuple[dict[str, Any], str]] = {}
        self.checks: list[tuple[str, str]] = []   # (username, permission) asked, in order

    def add_user(self, username: str, roles: tuple[str, ...] = ("user",)) -> dict[str, str]:
        """Create a user; returns its REST auth headers (`X-User-Id`, `X-Auth-Token`)."""
        from core.context import random_id
        from core.security import hash_token, new_token

        uid, token = random_id(), new_token()
        self._users[uid] = ({"_id": uid, "username": username, "roles": list(roles)}, hash_token(token))
        return {"X-User-Id": uid, "X-Auth-Token": token}

    @hookimpl
    async def provide_user_by_token(self, user_id: str, hashed_token: str) -> dict | None:
        entry = self._users.get(user_id)
        if entry is None or entry[1] != hashed_token:
            return None
        return dict(entry[0])

    @hookimpl
    async def provide_permission_check(self, user: dict, permission: str, rid: str | None) -> bool | None:
        self.checks.append((user.get("username", ""), permission))
        for role in user.get("roles", ()):
            perms = self.grants.get(role, set())
            if "*" in perms or permission in perms:
                return True
        return None
