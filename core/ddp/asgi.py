"""DDP sockets served as plain ASGI, in front of Quart.

A DDP socket needs none of Quart's request machinery, which costs every connection a websocket object, a
header table, a message queue, two tasks and a context, and every incoming frame a trip through that queue.
`mount` puts the gateway in front of the Quart app for the DDP paths (`/websocket`, and SockJS's
`/sockjs/<server>/<session>/websocket`); everything else still goes to Quart.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quart import Quart

    from core.ddp.gateway import DdpGateway

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
SOCKJS_PATH = re.compile(r"/sockjs/[^/]+/[^/]+/websocket")


class ClientGone(Exception):
    """The client closed the socket or the connection dropped."""


class Headers(dict):
    """Request headers by lower-case name (the first of repeated ones), looked up case-insensitively."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class AsgiWebsocket:
    """The few websocket operations the gateway uses, over the server's ASGI `receive` and `send`."""

    __slots__ = ("_receive", "send", "scope")

    def __init__(self, scope: dict, receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self.send = send   # the server's own: core.ddp.wire finds the direct path behind it

    @property
    def headers(self) -> Headers:
        headers = Headers()
        for name, value in self.scope.get("headers") or ():
            headers.setdefault(name.decode("latin1").lower(), value.decode("latin1"))
        return headers

    @property
    def remote_addr(self) -> str | None:
        client = self.scope.get("client")
        return client[0] if client else None

    async def accept(self) -> None:
        event = await self._receive()
        if event["type"] != "websocket.connect":
            raise ClientGone
        await self.send({"type": "websocket.accept"})

    async def receive(self) -> str | bytes:
        event = await self._receive()
        if event["type"] == "websocket.receive":
            text = event.get("text")
            return text if text is not None else event.get("bytes") or b""
        raise ClientGone

    async def send_text(self, text: str) -> None:
        await self.send({"type": "websocket.send", "text": text})

    async def close(self, code: int) -> None:
        await self.send({"type": "websocket.close", "code": code})


def mount(app: Quart, gateway: DdpGateway) -> None:
    """Serve the DDP paths with `gateway`, in front of the app's own ASGI handler."""
    quart = app.asgi_app

    async def asgi(scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            path = scope.get("path", "")
            sockjs = path != "/websocket" and SOCKJS_PATH.fullmatch(path) is not None
            if sockjs or path == "/websocket":
                await gateway.serve(AsgiWebsocket(scope, receive, send), sockjs=sockjs)
                return
        await quart(scope, receive, send)

    app.asgi_app = asgi  # type: ignore[method-assign]
