"""Websocket frames written straight to the socket, for DDP's outgoing traffic.

Through ASGI, every frame to every recipient is encoded to UTF-8, framed by wsproto and written by Hypercorn
with its own await, lock and drain: most of a fan-out's CPU. A stream event is the same text for every
subscriber of a room, so its wire frame (header and UTF-8 payload) is built once (`SharedFrame.wire`) and the
sender writes each socket's queued frames with one `write`.

The direct path is taken only where it is exact: HTTP/1.1 websockets under Hypercorn with no extension
negotiated (permessage-deflate is always declined, see core.server), found through Hypercorn's objects behind
the ASGI `send`. Anything else (HTTP/2, another server, a Hypercorn release that moved them) uses ASGI `send`.
Hypercorn still owns the socket: the handshake, pings, pongs and the close frame go through it, and frames
are never written once it has begun closing.
"""
from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import Any

_LEN16 = struct.Struct("!BBH")
_LEN64 = struct.Struct("!BBQ")
TEXT_FIN = 0x81


def text_frame(text: str) -> bytes:
    """A complete, unmasked (server to client) websocket text frame."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        return bytes((TEXT_FIN, n)) + payload
    if n < 65536:
        return _LEN16.pack(TEXT_FIN, 126, n) + payload
    return _LEN64.pack(TEXT_FIN, 127, n) + payload


class SharedFrame(str):
    """Frame text queued to many sockets (a stream event): its wire form is built on first use, once."""

    _wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        wire = self._wire
        if wire is None:
            wire = self._wire = text_frame(self)
        return wire


def wire_of(frame: str) -> bytes:
    return frame.wire if type(frame) is SharedFrame else text_frame(frame)


class DirectWriter:
    """Writes frames to one websocket's transport, as long as Hypercorn considers the socket open."""

    __slots__ = ("_stream", "_ws", "_writer", "_open")

    def __init__(self, stream: Any, writer: asyncio.StreamWriter, open_state: Any) -> None:
        self._stream = stream
        self._ws = stream.connection      # wsproto: leaves OPEN once a close frame was sent or received
        self._writer = writer
        self._open = open_state

    def usable(self) -> bool:
        return (self._ws.state is self._open and not self._stream.closed
                and not self._writer.transport.is_closing())

    async def write(self, frames: list[bytes]) -> bool:
        """Write `frames` in one go and wait while the transport is over its high-water mark (a slow reader:
        meanwhile the connection's outbox fills, which is how the gateway detects one). False once the
        socket is no longer open."""
        if not self.usable():
            return False
        self._writer.write(frames[0] if len(frames) == 1 else b"".join(frames))
        try:
            await self._writer.drain()
        except (ConnectionError, RuntimeError):
            return False
        return True


def direct_writer(send: Callable[..., Any]) -> DirectWriter | None:
    """The direct path behind Hypercorn's ASGI `send` of an HTTP/1.1 websocket, or None."""
    try:
        from hypercorn.asyncio.tcp_server import TCPServer
        from hypercorn.protocol.h11 import H11Protocol
        from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
        from wsproto.connection import ConnectionState
    except ImportError:
        return None
    stream = getattr(send, "__self__", None)
    if type(stream) is not WSStream or stream.state is not ASGIWebsocketState.CONNECTED:
        return None
    h11 = getattr(stream.send, "__self__", None)
    tcp = getattr(getattr(h11, "send", None), "__self__", None)
    if type(h11) is not H11Protocol or type(tcp) is not TCPServer:
        return None
    writer = getattr(tcp, "writer", None)
    proto = getattr(getattr(stream, "connection", None), "_proto", None)
    if not isinstance(writer, asyncio.StreamWriter) or proto is None or getattr(proto, "extensions", None):
        return None
    return DirectWriter(stream, writer, ConnectionState.OPEN)
