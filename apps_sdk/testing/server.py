"""An OrbitChat server running inside the caller's event loop (tests and app authors' fixtures)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from core.app import create_app, kernel_of
from core.config import Config
from core.kernel import Kernel
from core.server import listening_socket, run

if TYPE_CHECKING:
    from apps_sdk.testing.ddp import DdpClient

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

    async def ddp(self, connect: bool = True) -> DdpClient:
        from apps_sdk.testing.ddp import DdpClient

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


@contextlib.contextmanager
def embedded_database() -> Iterator[str]:
    """A MongoDB URL: `MONGO_URL` when set, otherwise a SecantusDB server for the duration of the block."""
    if os.environ.get("MONGO_URL"):
        yield os.environ["MONGO_URL"]
        return
    from core.storage import EmbeddedDatabase

    with tempfile.TemporaryDirectory(prefix="orbitchat-test-db-") as tmp:
        db = EmbeddedDatabase(Path(tmp) / "db")
        db.start()
        try:
            yield db.url
        finally:
            db.stop()


async def drop_database(mongo_url: str, db_name: str) -> None:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(mongo_url)
    try:
        await client.drop_database(db_name)
    finally:
        await client.close()
