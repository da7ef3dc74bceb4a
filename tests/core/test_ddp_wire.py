"""Websocket frames written straight to the socket (core.ddp.wire): exact framing at every length boundary,
the direct path found behind Hypercorn's ASGI `send` (this fails if a Hypercorn release moves it: the
gateway would silently fall back to ASGI), and no frame written once the socket is closing."""
from __future__ import annotations

import asyncio

import pytest
import websockets
from hypercorn.asyncio import serve
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import TextMessage

from core.config import Config
from core.ddp.wire import SharedFrame, direct_writer, text_frame, wire_of
from core.server import decline_ws_compression, hypercorn_config, listening_socket


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_text_frames_decode_at_length_boundaries(size):
    text = ("é" * size)[:size] if size % 2 else "a" * size      # multi-byte UTF-8 too
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(text_frame(text))
    events = list(client.events())
    assert len(events) == 1 and isinstance(events[0], TextMessage)
    assert events[0].data == text and events[0].message_finished


def test_shared_frame_is_encoded_once():
    frame = SharedFrame('{"msg":"changed"}')
    assert wire_of(frame) is wire_of(frame)                    # the same bytes object for every socket
    assert wire_of(frame) == text_frame(frame) == wire_of('{"msg":"changed"}')


def websocket_app(handler):
    """A plain ASGI app (as core.ddp.asgi serves DDP) running `handler(receive, send)` for a websocket."""
    async def app(scope, receive, send):
        if scope["type"] == "websocket":      # (lifespan: returning at once means "none needed")
            assert (await receive())["type"] == "websocket.connect"
            await send({"type": "websocket.accept"})
            await handler(receive, send)
    return app


async def serving(app):
    sock = listening_socket()
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, hypercorn_config(Config(port=port), sock), shutdown_trigger=stop.wait))
    return port, stop, task


async def test_direct_writes_under_hypercorn():
    decline_ws_compression()                      # as core.server.run does
    seen: dict = {}

    async def handler(receive, send):
        out = direct_writer(send)
        seen["direct"] = out is not None
        assert await out.write([text_frame("one"), SharedFrame("two").wire, text_frame("x" * 70_000)])
        await send({"type": "websocket.send", "text": "three"})   # Hypercorn's own path, in order after
        seen["out"] = out
        await receive()                                             # the client says bye, then closes
        await receive()

    port, stop, server = await serving(websocket_app(handler))
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as client:
            got = [await client.recv() for _ in range(4)]
            assert got == ["one", "two", "x" * 70_000, "three"]
            await client.send("bye")
        out = seen["out"]
        async with asyncio.timeout(5):
            while out.usable():                                     # the close handshake is done
                await asyncio.sleep(0.01)
        assert seen["direct"] is True
        assert await out.write([text_frame("never")]) is False
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


async def test_no_direct_path_on_a_compressed_socket(monkeypatch):
    """Raw frames would be wrong where permessage-deflate was negotiated: ASGI `send` is used instead."""
    import hypercorn.protocol.ws_stream as hypercorn_ws
    from wsproto.extensions import PerMessageDeflate
    monkeypatch.setattr(hypercorn_ws, "PerMessageDeflate", PerMessageDeflate)
    seen: dict = {}

    async def handler(receive, send):
        seen["direct"] = direct_writer(send)
        await send({"type": "websocket.send", "text": "hello"})
        await receive()

    port, stop, server = await serving(websocket_app(handler))
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as client:
            assert client.response.headers.get("sec-websocket-extensions", "").startswith("permessage-deflate")
            assert await client.recv() == "hello"
            await client.send("bye")
        assert seen == {"direct": None}
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
