"""Test helpers: an OrbitChat server running in the test's event loop, and a small DDP client."""
from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from core import hookimpl, jsonutil
from core.app import create_app, kernel_of
from core.config import Config
from core.kernel import Kernel
from core.server import listening_socket, run

FAST_LIMITS = {"OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default": "100000",
               "ORBITCHAT_BCRYPT_ROUNDS": "4"}  # accounts: cheap password hashing in tests


@dataclass
class RunningServer:
    base_url: str
    ws_url: str
    kernel: Kernel
    http: httpx.AsyncClient
    _stop: asyncio.Event
    _task: asyncio.Task
    clients: list = field(default_factory=list)

    async def ddp(self, connect: bool = True) -> "DdpClient":
        client = DdpClient(self.ws_url)
        await client.open(connect)
        self.clients.append(client)
        return client

    async def stop(self) -> None:
        for c in self.clients:
            await c.close()
        await self.http.aclose()
        self._stop.set()
        await asyncio.wait_for(self._task, 30)


async def start_server(mongo_url: str, db_name: str, plugins: tuple = (), env: dict | None = None,
                       **config: Any) -> RunningServer:
    sock = listening_socket()
    port = sock.getsockname()[1]
    cfg = Config(port=port, mongo_url=mongo_url, db_name=db_name, plugins=tuple(plugins),
                 env={**FAST_LIMITS, **(env or {})}, **config)
    app = create_app(cfg)
    stop = asyncio.Event()
    started = asyncio.Event()

    @app.before_serving
    async def _ready() -> None:
        started.set()

    task = asyncio.create_task(run(app, cfg, stop, sock))
    waiter = asyncio.create_task(started.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        waiter.cancel()
        task.result()  # re-raise the start-up error
        raise RuntimeError("server stopped during start-up")
    if waiter not in done:
        raise RuntimeError("server did not start in time")
    base = f"http://127.0.0.1:{port}"
    return RunningServer(base, f"ws://127.0.0.1:{port}/websocket", kernel_of(app),
                         httpx.AsyncClient(base_url=base, timeout=30), stop, task)


class DdpClient:
    """Just enough DDP for tests: connect, call, sub, and a queue of everything received."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ids = itertools.count(1)
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.ws: Any = None
        self._reader: asyncio.Task | None = None
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()

    async def open(self, connect: bool = True) -> None:
        self.ws = await websockets.connect(self.url, max_size=None)
        self._reader = asyncio.create_task(self._read())
        if connect:
            await self.send({"msg": "connect", "version": "1", "support": ["1"]})
            msg = await self.expect(lambda m: m.get("msg") in ("connected", "failed"))
            assert msg["msg"] == "connected", msg
            self.session = msg["session"]

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = jsonutil.ejson_loads(raw)
                if isinstance(msg, dict) and msg.get("msg") == "ping":
                    await self.send({"msg": "pong", **({"id": msg["id"]} if "id" in msg else {})})
                await self.inbox.put(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result(self.ws.close_code)

    async def send(self, msg: Any) -> None:
        await self.ws.send(msg if isinstance(msg, str) else jsonutil.ejson_dumps(msg).decode())

    async def expect(self, predicate, timeout: float = 5.0) -> dict:
        """Next message matching `predicate`; unmatched messages are kept for later `expect` calls."""
        kept: list = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    msg = await self.inbox.get()
                    if isinstance(msg, dict) and predicate(msg):
                        return msg
                    kept.append(msg)
        finally:
            for m in kept:
                self.inbox.put_nowait(m)

    async def call(self, method: str, *params: Any, timeout: float = 10.0) -> dict:
        mid = str(next(self.ids))
        await self.send({"msg": "method", "id": mid, "method": method, "params": list(params)})
        return await self.expect(lambda m: m.get("msg") == "result" and m.get("id") == mid, timeout)

    async def sub(self, name: str, *params: Any) -> dict:
        sid = f"s{next(self.ids)}"
        await self.send({"msg": "sub", "id": sid, "name": name, "params": list(params)})
        msg = await self.expect(lambda m: (m.get("msg") == "ready" and sid in m.get("subs", []))
                                or (m.get("msg") == "nosub" and m.get("id") == sid))
        msg["_sub_id"] = sid
        return msg

    async def login(self, token: str) -> dict:
        return await self.call("login", {"resume": token})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()


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
