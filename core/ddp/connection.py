"""One DDP session: its user, its subscriptions and its bounded send queue."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from core import jsonutil
from core.context import Context, random_id

log = logging.getLogger("orbitchat.ddp")

CLOSE_SLOW_CONSUMER = 1013


@dataclass
class Subscription:
    id: str
    name: str
    event_name: str
    params: list = field(default_factory=list)


class DdpConnection:
    """State of one websocket. `send*` never blocks: a full queue means a slow client, which is dropped."""

    def __init__(self, queue_size: int, ip: str | None, user_agent: str | None = None) -> None:
        self.id = random_id()
        self.ip = ip
        self.user_agent = user_agent
        self.user: Mapping[str, Any] | None = None
        self.token_hash: str | None = None
        self.connected = False
        self.subs: dict[str, Subscription] = {}
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=queue_size)
        self.closing: int | None = None
        # Set by `close`: the gateway stops waiting for a client that reads nothing and drops it.
        self.close_requested = asyncio.Event()
        self._on_close: list[Callable[["DdpConnection"], Any]] = []
        self.extra: dict[str, Any] = {}   # per-connection state owned by plugins (e.g. presence)

    @property
    def ctx(self) -> Context:
        return Context(user=self.user, token_hash=self.token_hash, ip=self.ip, connection_id=self.id,
                       transport="ddp", user_agent=self.user_agent)

    @property
    def user_id(self) -> str | None:
        return self.user.get("_id") if self.user else None

    def send(self, msg: dict[str, Any]) -> None:
        self.send_raw(jsonutil.ejson_dumps(msg).decode())

    def send_raw(self, frame: str) -> None:
        if self.closing is not None:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("connection %s (%s) is too slow; closing", self.id, self.user_id)
            self.close(CLOSE_SLOW_CONSUMER)

    def close(self, code: int = 1000, drain: bool = False) -> None:
        """Ask the sender loop to close the socket. What is already queued is dropped, or with `drain`
        sent first (e.g. a `force_logout` event before a logout close) when the queue has room."""
        if self.closing is not None:
            return
        self.closing = code
        self.close_requested.set()
        if drain:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                pass
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    def on_close(self, callback: Callable[["DdpConnection"], Any]) -> None:
        self._on_close.append(callback)

    def close_callbacks(self) -> list[Callable[["DdpConnection"], Any]]:
        return list(self._on_close)
