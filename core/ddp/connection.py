"""One DDP session: its user, its subscriptions and its bounded send queue."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    """State of one websocket. `send*` never blocks: a full outbox means a slow client, which is dropped.

    Kept small because there is one per socket: the outbox is a plain deque with one waiter future (not an
    asyncio.Queue), and the inbound backlog and its worker task exist only while there is work.
    """

    def __init__(self, queue_size: int, ip: str | None, user_agent: str | None = None) -> None:
        self.id = random_id()
        self.ip = ip
        self.user_agent = user_agent
        self.sockjs = False   # SockJS framing on this socket (set by the gateway)
        self.user: Mapping[str, Any] | None = None
        self.token_hash: str | None = None
        self.connected = False
        self.subs: dict[str, Subscription] = {}
        self.queue_size = queue_size
        self.outbox: deque[str | None] = deque()
        self._waiter: asyncio.Future | None = None
        self.closing: int | None = None
        # Set by the gateway: called once by `close`, so it stops waiting for a client that reads nothing.
        self.on_close_request: Callable[[], None] | None = None
        self.inbound: deque | None = None          # methods and subs waiting for the worker
        self.worker: asyncio.Task | None = None    # runs only while `inbound` has messages
        self.last_seen = time.monotonic()          # any inbound frame; read by the heartbeat sweep
        self.pinged = False
        self._on_close: list[Callable[[DdpConnection], Any]] = []
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
        if len(self.outbox) >= self.queue_size:
            log.warning("connection %s (%s) is too slow; closing", self.id, self.user_id)
            self.close(CLOSE_SLOW_CONSUMER)
            return
        self._push(frame)

    def _push(self, frame: str | None) -> None:
        self.outbox.append(frame)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next_frame(self) -> str | None:
        """The next frame to write (the sender's only wait); None means: close the socket now."""
        while not self.outbox:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.outbox.popleft()

    def close(self, code: int = 1000, drain: bool = False) -> None:
        """Ask the sender loop to close the socket. What is already queued is dropped, or with `drain`
        sent first (e.g. a `force_logout` event before a logout close) when the outbox has room."""
        if self.closing is not None:
            return
        self.closing = code
        if not drain or len(self.outbox) >= self.queue_size:
            self.outbox.clear()
        self._push(None)
        if self.on_close_request is not None:
            self.on_close_request()

    def on_close(self, callback: Callable[[DdpConnection], Any]) -> None:
        self._on_close.append(callback)

    def close_callbacks(self) -> list[Callable[[DdpConnection], Any]]:
        return list(self._on_close)
