"""Fixtures for ddp_streamer tests: a stand-in directory/authorization plugin and logged-in DDP clients.

`Directory` plays accounts and authorization for tests of the stream mapping alone: users with resume
tokens, a DDP `login` (resume only), permissions per role, and the `authorization.can_access_room` broker
action answered from a table the test controls. Integration tests use the real plugins instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from core import hookimpl
from core.context import random_id
from core.ddp import DdpMethod
from core.security import hash_token, new_token

FAST = {"DDP_Rate_Limit_Stream_Events_Calls": "100000"}


@dataclass
class Person:
    id: str
    username: str
    token: str
    roles: list[str] = field(default_factory=lambda: ["user"])

    @property
    def doc(self) -> dict[str, Any]:
        return {"_id": self.id, "username": self.username, "name": self.username.title(), "roles": self.roles}


class Directory:
    name = "directory"

    def __init__(self, grants: dict[str, set[str]] | None = None, serve_access: bool = True) -> None:
        self.people: dict[str, Person] = {}
        self.grants = grants or {"admin": {"*"}}
        self.access: set[tuple[str, str]] = set()
        self.serve_access = serve_access
        self.access_calls = 0

    def add(self, username: str, roles: tuple[str, ...] = ("user",)) -> Person:
        p = Person(random_id(), username, new_token(), list(roles))
        self.people[p.id] = p
        return p

    def allow(self, person: Person, rid: str) -> None:
        self.access.add((person.id, rid))

    def deny(self, person: Person, rid: str) -> None:
        self.access.discard((person.id, rid))

    @hookimpl
    async def provide_user_by_token(self, user_id: str, hashed_token: str) -> dict | None:
        p = self.people.get(user_id)
        return p.doc if p is not None and hash_token(p.token) == hashed_token else None

    @hookimpl
    async def provide_permission_check(self, user: dict, permission: str, rid: str | None) -> bool | None:
        for role in user.get("roles", ()):
            perms = self.grants.get(role, set())
            if "*" in perms or permission in perms:
                return True
        return None

    @hookimpl
    def register_ddp_methods(self) -> list:
        async def login(inv, credentials: dict) -> dict:
            for p in self.people.values():
                if p.token == credentials.get("resume"):
                    inv.set_user(p.doc, hash_token(p.token))
                    return {"id": p.id, "token": p.token, "type": "resume"}
            from core.errors import MeteorError
            raise MeteorError("403", "You've been logged out by the server. Please log in again.")
        return [DdpMethod("login", login, auth=False, params={"type": "array", "items": {"type": "object"}})]

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        if self.serve_access:
            await api.broker.register("authorization.can_access_room", self._can_access)

    async def _can_access(self, user_id: str, rid: str) -> bool:
        self.access_calls += 1
        return (user_id, rid) in self.access


@pytest.fixture
def directory() -> Directory:
    return Directory()


@pytest.fixture
async def srv(server_factory, directory):
    return await server_factory(plugins=("settings", directory, "ddp_streamer"), env=dict(FAST))


async def logged_in(srv, person: Person):
    client = await srv.ddp()
    reply = await client.login(person.token)
    assert reply.get("result", {}).get("id") == person.id, reply
    return client


def event_of(stream: str, event_name: str | None = None):
    """Predicate: a `changed` frame of `stream` (and of `event_name` when given)."""
    def match(m: dict) -> bool:
        return (m.get("msg") == "changed" and m.get("collection") == stream
                and (event_name is None or m["fields"].get("eventName") == event_name))
    return match
