"""One end of the app channel: sends requests, matches answers, serves the other side's requests."""
from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox import protocol
from sandbox.protocol import RpcError

log = logging.getLogger("orbitchat.sandbox")

Handler = Callable[[str, Any], Awaitable[Any]]
Notify = Callable[[str, Any], None]


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


class Peer:
    def __init__(self, reader: asyncio.StreamReader, writer: Any, handler: Handler | None = None,
                 on_notify: Notify | None = None, id_prefix: str = "") -> None:
        self.reader = reader
        self.writer = writer
        self.handler = handler
        self.on_notify = on_notify
        self._ids = itertools.count(1)
        self._prefix = id_prefix
        self._pending: dict[Any, asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        self.closed = asyncio.Event()

    def _send(self, message: dict[str, Any]) -> None:
        if self.closed.is_set():
            raise ConnectionError("app channel closed")
        self.writer.write(protocol.encode(message))

    async def request(self, method: str, params: Any = None, timeout: float | None = None) -> Any:
        mid = f"{self._prefix}{next(self._ids)}" if self._prefix else next(self._ids)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._pending[mid] = fut
        # A timer on the answer itself rather than asyncio.wait_for: this is on every hook call, and wait_for
        # costs a second future, a callback and an extra turn of the loop.
        expiry = loop.call_later(timeout, _expire, fut) if timeout is not None else None
        try:
            self._send(protocol.request(mid, method, params))
            return await fut
        finally:
            self._pending.pop(mid, None)
            if expiry is not None:
                expiry.cancel()

    def notify(self, method: str, params: Any = None) -> None:
        self._send(protocol.notification(method, params))

    async def run(self) -> None:
        """Read until the other side goes away; fail every pending request then."""
        try:
            while True:
                msg = await protocol.read_frame(self.reader)
                if msg is None:
                    return
                self._dispatch(msg)
        except (protocol.ProtocolError, ValueError) as exc:
            log.warning("app channel protocol error: %s", exc)
        finally:
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("app channel closed"))
            for task in list(self._tasks):
                task.cancel()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        if isinstance(method, str):
            if "id" in msg:
                task = asyncio.get_running_loop().create_task(self._serve(msg["id"], method, msg.get("params")))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif self.on_notify is not None:
                self.on_notify(method, msg.get("params"))
            return
        fut = self._pending.get(msg.get("id"))
        if fut is None or fut.done():
            return
        if "error" in msg and isinstance(msg["error"], dict):
            err = msg["error"]
            fut.set_exception(RpcError(int(err.get("code", protocol.APP_ERROR)), str(err.get("message", "")),
                                       err.get("data")))
        else:
            fut.set_result(msg.get("result"))

    async def _serve(self, mid: Any, method: str, params: Any) -> None:
        try:
            if self.handler is None:
                raise RpcError(protocol.METHOD_NOT_FOUND, f"{method} not served")
            value = await self.handler(method, params)
            reply = protocol.result(mid, value)
        except RpcError as exc:
            reply = protocol.error(mid, exc.code, exc.message, exc.data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reply = protocol.error(mid, protocol.APP_ERROR, f"{type(exc).__name__}: {exc}")
        try:
            self._send(reply)
        except (ConnectionError, TypeError, protocol.ProtocolError) as exc:
            if not self.closed.is_set():
                self._send(protocol.error(mid, protocol.APP_ERROR, f"unsendable result: {exc}"))
