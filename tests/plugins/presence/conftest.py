"""Presence test fixtures: a server with accounts + presence, users, DDP logins, status polling."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.users import TestUser, create_user

# The real services: accounts does DDP `login`, ddp_streamer turns `presence.status` into stream events.
PLUGINS = ("settings", "accounts", "authorization", "presence", "ddp_streamer")
BASE_ENV = {"ORBITCHAT_BCRYPT_ROUNDS": "4"}
# Fast maintenance for tests that exercise refresh and reaper (seconds).
FAST_PRESENCE = {
    "OVERWRITE_SETTING_Presence_Connection_Refresh_Interval": "1",
    "OVERWRITE_SETTING_Presence_Reaper_Interval": "1",
    "OVERWRITE_SETTING_Presence_Connection_Stale_Timeout": "3",
}


@pytest.fixture
def start(server_factory):
    async def make(env: dict[str, str] | None = None, plugins: tuple = PLUGINS, **config):
        return await server_factory(plugins=plugins, env={**BASE_ENV, **(env or {})}, **config)
    return make


@pytest.fixture
async def srv(start):
    return await start()


async def login(srv, user: TestUser):
    """A websocket logged in as `user` (DDP `login` with a resume token)."""
    client = await srv.ddp()
    reply = await client.login(user.token)
    assert "result" in reply, reply
    return client


async def user_doc(srv, user: TestUser | str) -> dict[str, Any]:
    uid = user if isinstance(user, str) else user.id
    return await srv.kernel.db["users"].find_one({"_id": uid})


async def wait_status(srv, user: TestUser, status: str, timeout: float = 5.0, **fields: Any) -> dict:
    """Poll the user document until `status` (and any other given fields) hold."""
    doc: dict = {}
    try:
        async with asyncio.timeout(timeout):
            while True:
                doc = await user_doc(srv, user)
                if doc.get("status") == status and all(doc.get(k) == v for k, v in fields.items()):
                    return doc
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{user.username}: wanted status {status} {fields}, have {doc}") from None


async def connections(srv, user: TestUser) -> list[dict]:
    doc = await srv.kernel.db["usersSessions"].find_one({"_id": user.id})
    return (doc or {}).get("connections") or []


class Events:
    """Collects `presence.status` broker events."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self._new = asyncio.Event()

    def __call__(self, payload: dict) -> None:
        self.items.append(payload)
        self._new.set()

    async def wait_for(self, predicate, timeout: float = 5.0) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                for item in self.items:
                    if predicate(item):
                        return item
                self._new.clear()
                await self._new.wait()


@pytest.fixture
async def events(srv) -> Events:
    collected = Events()
    await srv.kernel.broker.subscribe("presence.status", collected)
    return collected


def presence_plugin(srv):
    return srv.kernel.pm.get_plugin("presence")


__all__ = ["FAST_PRESENCE", "Events", "connections", "create_user", "login", "presence_plugin", "user_doc",
           "wait_status"]
