"""DDP method and stream declarations, and the subscription registry that fans events out.

A stream event is encoded once and the same frame is queued on every subscribed connection: the frame
(`changed` on collection `stream-<name>`, id `"id"`) does not depend on the subscriber.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import jsonutil
from core.ddp.wire import SharedFrame
from core.validation import compile_schema

if TYPE_CHECKING:
    from core.context import Context
    from core.ddp.connection import DdpConnection

log = logging.getLogger("orbitchat.ddp")

NO_PARAMS = {"type": "array", "maxItems": 0}


@dataclass
class DdpMethod:
    """A DDP method. `handler(invocation, *params)`; `params` is a jsonschema for the params array."""

    name: str
    handler: Callable[..., Awaitable[Any]]
    auth: bool = True
    permission: str | tuple[str, ...] | None = None
    params: dict = field(default_factory=lambda: dict(NO_PARAMS))
    rate_limit: tuple[int, int] | None = None   # (calls, ms) per user (or connection when anonymous)
    owner: str = ""

    def __post_init__(self) -> None:
        self.validator = compile_schema(self.params)
        self.permissions = (self.permission,) if isinstance(self.permission, str) else tuple(self.permission or ())


ReadCheck = Callable[["Context", str, Any], Awaitable[bool]]
WriteHandler = Callable[["Context", str, list], Awaitable[None]]


@dataclass
class Stream:
    """A publication clients `sub` to. For Rocket.Chat streams `name` is `stream-<x>` and params are
    `[eventName, options]`.

    auth:        login required to subscribe
    can_read:    async (ctx, event_name, options) -> bool; None allows every caller that passes `auth`
    on_write:    async (ctx, event_name, args); None means clients may not emit on this stream. The
                 handler checks the write and relays it (the kernel only routes the call).
    on_subscribe: async (connection, sub_id, params) -> bool for publications that are not plain streams
                 (they send their own documents); return False to refuse.
    """

    name: str
    auth: bool = True
    can_read: ReadCheck | None = None
    on_write: WriteHandler | None = None
    on_subscribe: Callable[..., Awaitable[bool]] | None = None
    owner: str = ""


class DdpRegistry:
    def __init__(self) -> None:
        self.methods: dict[str, DdpMethod] = {}
        self.streams: dict[str, Stream] = {}
        # (stream, eventName) -> {connection: sub_id}
        self._subs: dict[tuple[str, str], dict[DdpConnection, str]] = defaultdict(dict)
        self.connections: dict[str, DdpConnection] = {}

    def add_method(self, method: DdpMethod) -> None:
        if method.name in self.methods:
            raise ValueError(f"DDP method {method.name} declared by {self.methods[method.name].owner} "
                             f"and {method.owner}")
        self.methods[method.name] = method

    def add_stream(self, stream: Stream) -> None:
        if stream.name in self.streams:
            raise ValueError(f"stream {stream.name} declared by {self.streams[stream.name].owner} and {stream.owner}")
        self.streams[stream.name] = stream

    def remove_owner(self, owner: str) -> None:
        self.methods = {k: v for k, v in self.methods.items() if v.owner != owner}
        self.streams = {k: v for k, v in self.streams.items() if v.owner != owner}

    # -- subscriptions ---------------------------------------------------------------------------
    def subscribe(self, conn: DdpConnection, stream: str, event_name: str, sub_id: str) -> None:
        self._subs[(stream, event_name)][conn] = sub_id

    def unsubscribe(self, conn: DdpConnection, stream: str, event_name: str) -> None:
        key = (stream, event_name)
        subs = self._subs.get(key)
        if subs is not None:
            subs.pop(conn, None)
            if not subs:
                del self._subs[key]

    def subscriber_count(self, stream: str, event_name: str) -> int:
        return len(self._subs.get((stream, event_name), ()))

    def subscribers(self, stream: str, event_name: str) -> list[DdpConnection]:
        return list(self._subs.get((stream, event_name), ()))

    def publish(self, stream: str, event_name: str, args: list[Any], *,
                exclude: str | None = None,
                accept: Callable[[DdpConnection], bool] | None = None) -> int:
        """Send one stream event to every local subscriber. `exclude` is a connection id that must not
        get its own event back; `accept` filters recipients. Returns the number of connections reached."""
        subs = self._subs.get((stream, event_name))
        if not subs:
            return 0
        frame = SharedFrame(stream_frame(stream, event_name, args))
        sent = 0
        for conn in list(subs):
            if conn.id == exclude or (accept is not None and not accept(conn)):
                continue
            conn.send_raw(frame)
            sent += 1
        return sent


def stream_frame(stream: str, event_name: str, args: list[Any]) -> str:
    return jsonutil.ejson_dumps({
        "msg": "changed", "collection": stream, "id": "id",
        "fields": {"eventName": event_name, "args": args},
    }).decode()
