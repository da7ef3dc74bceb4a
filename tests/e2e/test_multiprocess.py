"""Two real `orbitchat serve` processes sharing one database and one NATS server behave as one server.

Process A runs every installed plugin; process B runs either every plugin too or only `ddp_streamer,presence`
(plus the essential settings, accounts and authorization). Clients speak to each process over real sockets:
REST with httpx, DDP with websockets.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from core.context import random_id
from tests.helpers import DdpClient
from tests.processes import ServeProcess

BOUND = 5.0   # seconds a message or a status change may take to reach the other process's client
ADMIN, ADMIN_PASSWORD = "boss", "boss-pass-1234"
PASSWORD = "user-pass-1234"
B_SERVICES = {"full": "all", "streamer": "ddp_streamer,presence"}


@dataclass
class Proc:
    serve: ServeProcess
    http: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.serve.port}/websocket"

    async def ok(self, method: str, path: str, auth: dict[str, str] | None = None, **kw: Any) -> dict:
        r = await self.http.request(method, f"/api/v1/{path}", headers=auth or {}, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text, self.serve.output()[-3000:])
        body = r.json()
        assert body["success"] is True, body
        return body

    async def login(self, username: str, password: str) -> dict[str, str]:
        data = (await self.ok("POST", "login", json={"user": username, "password": password}))["data"]
        return {"X-User-Id": data["userId"], "X-Auth-Token": data["authToken"]}

    async def ddp(self, user: User) -> DdpClient:
        client = DdpClient(self.ws_url)
        await client.open()
        reply = await client.login(user.auth["X-Auth-Token"])
        assert reply.get("result", {}).get("id") == user.id, reply
        return client


@dataclass
class User:
    username: str
    auth: dict[str, str]            # REST headers X-User-Id / X-Auth-Token

    @property
    def id(self) -> str:
        return self.auth["X-User-Id"]


@dataclass
class Cluster:
    a: Proc
    b: Proc
    admin: dict[str, str]           # REST auth headers of the bootstrapped admin

    async def user(self, name: str) -> User:
        """A new user (unique name, `<name>-<suffix>`) created by the admin through A, logged in."""
        username = f"{name}-{random_id(5).lower()}"
        await self.a.ok("POST", "users.create", self.admin, json={
            "username": username, "name": username.title(), "email": f"{username}@example.org",
            "password": PASSWORD, "verified": True})
        return User(username, await self.a.login(username, PASSWORD))


@pytest.fixture(scope="module", params=sorted(B_SERVICES), ids=lambda k: f"b-{k}")
def processes(request, tmp_path_factory, mongo_url: str, nats_url: str) -> Iterator[tuple[ServeProcess, ...]]:
    """Processes A and B with their own database and NATS subject prefix, shared by this module's tests for
    one B configuration (a process takes seconds to start on this machine); each test makes its own users
    and rooms."""
    tmp = tmp_path_factory.mktemp("multiprocess")
    db_name = "mp_" + random_id(10)
    env = {"MONGO_URL": mongo_url, "ORBITCHAT_DB": db_name, "BROKER_URL": nats_url,
           "ORBITCHAT_NATS_PREFIX": "mp" + random_id(8),
           "ORBITCHAT_ADMIN_USER": ADMIN, "ORBITCHAT_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "ORBITCHAT_BCRYPT_ROUNDS": "4",
           "OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default": "100000"}
    procs: list[ServeProcess] = []
    try:
        # A first: it bootstraps the admin and seeds roles and permissions before B reads them.
        procs.append(ServeProcess(tmp / "a", env))
        procs[0].wait_ready(60)
        procs.append(ServeProcess(tmp / "b", env, services=B_SERVICES[request.param]))
        procs[1].wait_ready(60)
        if request.param == "streamer":   # only what was asked for, and the essential services
            assert "plugins:  accounts, authorization, ddp_streamer, presence, settings\n" in procs[1].output()
        yield tuple(procs)
    finally:
        for p in reversed(procs):
            p.stop()
        client = MongoClient(mongo_url)
        client.drop_database(db_name)
        client.close()


@pytest.fixture
async def cluster(processes: tuple[ServeProcess, ...]) -> AsyncIterator[Cluster]:
    a, b = (Proc(s, httpx.AsyncClient(base_url=s.url, timeout=20)) for s in processes)
    try:
        yield Cluster(a, b, await a.login(ADMIN, ADMIN_PASSWORD))
    finally:
        await a.http.aclose()
        await b.http.aclose()


def room_message(rid: str, text: str):
    def match(m: dict) -> bool:
        if m.get("msg") != "changed" or m.get("collection") != "stream-room-messages":
            return False
        fields = m.get("fields") or {}
        args = fields.get("args") or [{}]
        return fields.get("eventName") == rid and args[0].get("msg") == text
    return match


def user_status(uid: str, code: int):
    def match(m: dict) -> bool:
        if m.get("msg") != "changed" or m.get("collection") != "stream-notify-logged":
            return False
        fields = m.get("fields") or {}
        return fields.get("eventName") == "user-status" and any(
            a[0] == uid and a[2] == code for a in fields.get("args") or [] if isinstance(a, list))
    return match


def drain(client: DdpClient) -> list[dict]:
    """Everything received and not yet consumed by `expect`."""
    out = []
    while not client.inbox.empty():
        out.append(client.inbox.get_nowait())
    return out


async def test_message_sent_through_a_reaches_subscriber_on_b(cluster: Cluster):
    alice = await cluster.user("alice")
    bob = await cluster.user("bob")
    rid = (await cluster.a.ok("POST", "channels.create", alice.auth, json={
        "name": "general-" + random_id(4).lower(), "members": [bob.username]}))["channel"]["_id"]

    listener = await cluster.b.ddp(bob)          # bob is connected to B only
    sender = await cluster.a.ddp(alice)          # alice's DDP session is on A
    try:
        sub = await listener.sub("stream-room-messages", rid, False)
        assert sub["msg"] == "ready", sub

        sent = (await cluster.a.ok("POST", "chat.sendMessage", alice.auth,
                                   json={"message": {"rid": rid, "msg": "over REST to A"}}))["message"]
        got = await listener.expect(room_message(rid, "over REST to A"), BOUND)
        message = got["fields"]["args"][0]
        assert message["_id"] == sent["_id"] and message["u"]["username"] == alice.username
        assert isinstance(message["ts"], datetime)   # an EJSON date on the wire

        reply = await sender.call("sendMessage", {"_id": random_id(), "rid": rid, "msg": "over DDP to A"})
        assert "result" in reply, reply
        got = await listener.expect(room_message(rid, "over DDP to A"), BOUND)
        assert got["fields"]["args"][0]["_id"] == reply["result"]["_id"]

        await asyncio.sleep(0.3)                 # each message arrives once: no echo through NATS
        late = [m for m in drain(listener)
                if room_message(rid, "over REST to A")(m) or room_message(rid, "over DDP to A")(m)]
        assert late == []
    finally:
        await listener.close()
        await sender.close()


async def test_room_subscription_on_b_is_authorised(cluster: Cluster):
    """B decides who may read a private room from the shared database, whatever services it runs."""
    alice = await cluster.user("alice")
    carol = await cluster.user("carol")
    rid = (await cluster.a.ok("POST", "groups.create", alice.auth,
                              json={"name": "secret-" + random_id(4).lower()}))["group"]["_id"]
    outsider = await cluster.b.ddp(carol)
    member = await cluster.b.ddp(alice)
    try:
        refused = await outsider.sub("stream-room-messages", rid, False)
        assert refused["msg"] == "nosub", refused
        assert (await member.sub("stream-room-messages", rid, False))["msg"] == "ready"
        await cluster.a.ok("POST", "chat.sendMessage", alice.auth, json={"message": {"rid": rid, "msg": "psst"}})
        await member.expect(room_message(rid, "psst"), BOUND)
        assert not [m for m in drain(outsider) if room_message(rid, "psst")(m)]
    finally:
        await outsider.close()
        await member.close()


async def test_presence_of_a_user_connected_to_b_only(cluster: Cluster):
    alice = await cluster.user("alice")
    bob = await cluster.user("bob")
    watcher = await cluster.a.ddp(alice)
    query = {"userId": bob.id}

    async def presence_seen_through_a() -> str:
        return (await cluster.a.ok("GET", "users.getPresence", alice.auth, params=query))["presence"]

    try:
        assert (await watcher.sub("stream-notify-logged", "user-status", False))["msg"] == "ready"
        assert await presence_seen_through_a() == "offline"

        on_b = await cluster.b.ddp(bob)          # bob connects to B only
        await watcher.expect(user_status(bob.id, 1), BOUND)
        assert await presence_seen_through_a() == "online"

        await on_b.close()                       # and leaves: A's watcher sees him go offline
        await watcher.expect(user_status(bob.id, 0), BOUND)
        async with asyncio.timeout(BOUND):
            while await presence_seen_through_a() != "offline":
                await asyncio.sleep(0.05)
    finally:
        await watcher.close()
