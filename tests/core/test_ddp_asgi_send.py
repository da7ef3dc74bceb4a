"""The DDP sender writes through the server's ASGI `send` found under Quart's websocket object: if a Quart
release moves it, this fails (the gateway would silently fall back to Quart's slower `send`)."""
from __future__ import annotations

from quart import Quart, websocket

from core.ddp.gateway import asgi_send


async def test_raw_asgi_send_is_found_and_sends():
    app = Quart(__name__)
    found = {}

    @app.websocket("/ws")
    async def ws():
        await websocket.accept()
        send = asgi_send(websocket._get_current_object())
        found["name"] = getattr(send, "__name__", "")
        await send({"type": "websocket.send", "text": "hello"})
        await websocket.receive()

    async with app.test_client().websocket("/ws") as client:
        assert await client.receive() == "hello"
        await client.send("bye")
    assert found["name"] != "via_quart"
