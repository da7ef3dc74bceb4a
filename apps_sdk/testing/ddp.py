"""A small DDP (Meteor) websocket client: connect, login, call, subscribe, and wait for stream events."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import websockets

from core import jsonutil

STREAM_OPTIONS = {"useCollection": False, "args": []}


class DdpClient:
    """Just enough DDP for tests: connect, call, sub, and a queue of everything received."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ids = itertools.count(1)
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.ws: Any = None
        self._reader: asyncio.Task | None = None
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.user_id: str | None = None

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

    async def expect(self, predicate: Callable[[dict], bool], timeout: float = 5.0) -> dict:
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
        reply = await self.call("login", {"resume": token})
        self.user_id = (reply.get("result") or {}).get("id")
        return reply

    # -- streams -----------------------------------------------------------------------------------------
    async def subscribe(self, stream: str, event: str) -> str:
        """Subscribe to one event of a stream (`stream-room-messages`, `<rid>`); AssertionError if refused."""
        msg = await self.sub(stream, event, STREAM_OPTIONS)
        assert msg["msg"] == "ready", f"subscription to {stream} {event} refused: {msg}"
        return msg["_sub_id"]

    async def next_event(self, stream: str, event: str | None = None,
                         where: Callable[[list], bool] | None = None, timeout: float = 5.0) -> list:
        """The `args` of the next event of `stream` (and `event`) for which `where(args)` holds."""
        def match(m: dict) -> bool:
            if m.get("msg") != "changed" or m.get("collection") != stream:
                return False
            fields = m.get("fields") or {}
            if event is not None and fields.get("eventName") != event:
                return False
            return where is None or bool(where(fields.get("args") or []))
        return (await self.expect(match, timeout))["fields"]["args"]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
