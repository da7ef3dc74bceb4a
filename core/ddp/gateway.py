"""DDP over websocket at `/websocket`: handshake, heartbeats, methods and subscriptions.

One receive loop per socket reads frames; pings are answered at once, methods and subs are processed in
order by a worker; a sender task drains the connection's bounded queue.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from quart import websocket

from core import jsonutil
from core.ddp.connection import DdpConnection, Subscription
from core.ddp.registry import DdpMethod
from core.validation import validation_message
from core.errors import ApiError, Forbidden, TooManyRequests, Unauthorized, meteor_error

if TYPE_CHECKING:
    from core.kernel import Kernel

log = logging.getLogger("orbitchat.ddp")

SUPPORTED_VERSIONS = ("1", "pre2", "pre1")
CLOSE_PROTOCOL = 1002
CLOSE_UNSUPPORTED_DATA = 1007
CLOSE_TOO_BIG = 1009
CLOSE_IDLE = 4000
# Seconds a closing connection's sender gets to flush; a client that reads nothing never lets it finish.
CLOSE_GRACE = 2.0


@dataclass
class MethodInvocation:
    """What a DDP method handler gets besides its params."""

    connection: DdpConnection
    method: str
    random_seed: str | None = None

    @property
    def ctx(self):
        return self.connection.ctx

    def set_user(self, user: Mapping[str, Any] | None, token_hash: str | None = None) -> None:
        self.connection.user = user
        self.connection.token_hash = token_hash if user else None


class DdpGateway:
    def __init__(self, kernel: "Kernel") -> None:
        self.kernel = kernel

    async def serve(self) -> None:
        k = self.kernel
        conn = DdpConnection(k.config.ddp_send_queue, k.client_ip(websocket.headers, websocket.remote_addr),
                             websocket.headers.get("User-Agent"))
        ws = websocket._get_current_object()
        await ws.accept()
        k.ddp.connections[conn.id] = conn
        inbound: asyncio.Queue = asyncio.Queue(maxsize=k.config.ddp_send_queue)
        tasks = [asyncio.create_task(self._sender(ws, conn)), asyncio.create_task(self._worker(conn, inbound)),
                 asyncio.create_task(self._heartbeat(conn))]
        conn.send({"server_id": "0"})
        try:
            await self._receive(ws, conn, inbound, tasks[0])
        finally:
            for t in tasks:
                t.cancel()
            await self._cleanup(conn)
        if conn.closing is not None:
            # Last, after cleanup: a client that reads nothing may hold this up, but none of our state.
            await ws.close(conn.closing)

    async def _receive(self, ws: Any, conn: DdpConnection, inbound: asyncio.Queue, sender: asyncio.Task) -> None:
        limit = self.kernel.config.max_ddp_frame_bytes
        receive = asyncio.ensure_future(ws.receive())
        closing = asyncio.ensure_future(conn.close_requested.wait())
        try:
            while True:
                done, _ = await asyncio.wait({receive, sender, closing}, return_when=asyncio.FIRST_COMPLETED)
                if sender in done or closing in done:   # slow consumer, logout, idle, bad frame
                    await asyncio.wait({sender}, timeout=CLOSE_GRACE)
                    return
                data = receive.result()
                receive = asyncio.ensure_future(ws.receive())
                conn.extra["last_seen"] = time.monotonic()
                if isinstance(data, bytes):
                    conn.close(CLOSE_UNSUPPORTED_DATA)
                    continue
                if len(data) > limit:
                    conn.close(CLOSE_TOO_BIG)
                    continue
                self._frame(conn, data, inbound)
        finally:
            receive.cancel()
            closing.cancel()

    def _frame(self, conn: DdpConnection, data: str, inbound: asyncio.Queue) -> None:
        # SockJS-style framing (`["{...}"]`) is unwrapped, as ddp-streamer does.
        try:
            msg = jsonutil.ejson_loads(data)
            if isinstance(msg, list) and msg and all(isinstance(m, str) for m in msg):
                for inner in msg:
                    self._frame(conn, inner, inbound)
                return
        except ValueError:
            conn.send({"msg": "error", "reason": "Bad request", "offendingMessage": data[:1000]})
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("msg"), str):
            conn.send({"msg": "error", "reason": "Bad request", "offendingMessage": msg})
            return
        kind = msg["msg"]
        if kind == "ping":
            conn.send({"msg": "pong", **({"id": msg["id"]} if "id" in msg else {})})
        elif kind == "pong":
            return
        elif kind == "connect":
            self._connect(conn, msg)
        elif not conn.connected:
            conn.send({"msg": "error", "reason": "Must connect first", "offendingMessage": msg})
        elif kind in ("method", "sub", "unsub"):
            try:
                inbound.put_nowait(msg)
            except asyncio.QueueFull:
                conn.close(1013)
        else:
            conn.send({"msg": "error", "reason": "Bad request", "offendingMessage": msg})

    def _connect(self, conn: DdpConnection, msg: dict) -> None:
        if conn.connected:
            conn.send({"msg": "error", "reason": "Already connected", "offendingMessage": msg})
            return
        version = msg.get("version")
        if version not in SUPPORTED_VERSIONS:
            conn.send({"msg": "failed", "version": "1"})
            return
        conn.connected = True
        conn.send({"msg": "connected", "session": conn.id})

    async def _worker(self, conn: DdpConnection, inbound: asyncio.Queue) -> None:
        while True:
            msg = await inbound.get()
            try:
                if msg["msg"] == "method":
                    await self._method(conn, msg)
                elif msg["msg"] == "sub":
                    await self._sub(conn, msg)
                else:
                    self._unsub(conn, msg)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("DDP %s failed", msg.get("msg"))

    # -- methods ------------------------------------------------------------------------------------
    async def _method(self, conn: DdpConnection, msg: dict) -> None:
        mid, name, params = msg.get("id"), msg.get("method"), msg.get("params", [])
        if not isinstance(mid, str) or not isinstance(name, str) or not isinstance(params, list):
            conn.send({"msg": "error", "reason": "Malformed method invocation", "offendingMessage": msg})
            return
        method = self.kernel.ddp.methods.get(name)
        try:
            if method is None:
                raise ApiError(f"Method '{name}' not found", status=404)
            result = await self.invoke(method, conn, params, msg.get("randomSeed"))
        except ApiError as err:
            conn.send({"msg": "result", "id": mid, "error": err.ddp_error()})
        except Exception:
            log.exception("DDP method %s failed", name)
            conn.send({"msg": "result", "id": mid, "error": meteor_error(500, "Internal server error")})
        else:
            reply: dict[str, Any] = {"msg": "result", "id": mid}
            if result is not None:
                reply["result"] = result
            conn.send(reply)
        conn.send({"msg": "updated", "methods": [mid]})

    async def invoke(self, method: DdpMethod, conn: DdpConnection, params: list, seed: str | None = None) -> Any:
        """Run one method with the kernel's checks: auth, rate limit, permissions, params schema."""
        k = self.kernel
        if method.auth and conn.user is None:
            raise Unauthorized()
        if method.rate_limit:
            calls, interval = method.rate_limit
            allowed, _, reset = k.rate_limiter.hit(("ddp", method.name, conn.user_id or conn.id), calls, interval)
            if not allowed:
                raise TooManyRequests(max(0, reset - int(time.time() * 1000)))
        for perm in method.permissions:
            if not await k.has_permission(conn.user, perm):
                raise Forbidden()
        errors = list(method.validator.iter_errors(params))
        if errors:
            raise ApiError(validation_message(errors), "error-invalid-params",
                           details={"method": method.name})
        inv = MethodInvocation(conn, method.name, seed)
        return await method.handler(inv, *params)

    # -- subscriptions ------------------------------------------------------------------------------
    async def _sub(self, conn: DdpConnection, msg: dict) -> None:
        sid, name, params = msg.get("id"), msg.get("name"), msg.get("params", [])
        if not isinstance(sid, str) or not isinstance(name, str) or not isinstance(params, list):
            conn.send({"msg": "error", "reason": "Malformed subscription", "offendingMessage": msg})
            return
        if sid in conn.subs:
            conn.send({"msg": "nosub", "id": sid, "error": meteor_error(400, "Duplicate subscription id")})
            return
        stream = self.kernel.ddp.streams.get(name)
        if stream is None:
            conn.send({"msg": "nosub", "id": sid, "error": meteor_error(404, f"Subscription '{name}' not found")})
            return
        if stream.auth and conn.user is None:
            conn.send({"msg": "nosub", "id": sid, "error": meteor_error("not-allowed", "Not allowed")})
            return
        if stream.on_subscribe is not None:
            ok = await stream.on_subscribe(conn, sid, params)
            if ok:
                conn.subs[sid] = Subscription(sid, name, "", params)
                conn.send({"msg": "ready", "subs": [sid]})
            return
        event_name = params[0] if params else None
        if not isinstance(event_name, str) or not event_name:
            conn.send({"msg": "nosub", "id": sid, "error": meteor_error("invalid-event-name", "Invalid event name")})
            return
        options = params[1] if len(params) > 1 else False
        if stream.can_read is not None and not await stream.can_read(conn.ctx, event_name, options):
            conn.send({"msg": "nosub", "id": sid, "error": meteor_error("not-allowed", "Not allowed")})
            return
        conn.subs[sid] = Subscription(sid, name, event_name, params)
        self.kernel.ddp.subscribe(conn, name, event_name, sid)
        conn.send({"msg": "ready", "subs": [sid]})

    def _unsub(self, conn: DdpConnection, msg: dict) -> None:
        sid = msg.get("id")
        sub = conn.subs.pop(sid, None) if isinstance(sid, str) else None
        if sub is not None and sub.event_name:
            self.kernel.ddp.unsubscribe(conn, sub.name, sub.event_name)
        conn.send({"msg": "nosub", "id": sid})

    # -- sending, heartbeat, cleanup ----------------------------------------------------------------
    async def _sender(self, ws: Any, conn: DdpConnection) -> None:
        while True:
            frame = await conn.queue.get()
            if frame is None:   # `close` was called; `serve` sends the close frame after cleanup
                return
            await ws.send(frame)

    async def _heartbeat(self, conn: DdpConnection) -> None:
        interval = float(self.kernel.settings.get("DDP_Heartbeat_Interval", 30))
        conn.extra["last_seen"] = time.monotonic()
        pinged = False
        while True:
            await asyncio.sleep(interval / 3)
            idle = time.monotonic() - conn.extra["last_seen"]
            if idle >= 2 * interval:
                conn.close(CLOSE_IDLE)
                return
            if idle >= interval and not pinged:
                conn.send({"msg": "ping"})
                pinged = True
            elif idle < interval:
                pinged = False

    async def _cleanup(self, conn: DdpConnection) -> None:
        k = self.kernel
        k.ddp.connections.pop(conn.id, None)
        try:
            await k.broker.emit("socket.disconnected", {"connectionId": conn.id, "userId": conn.user_id})
        except Exception:
            log.exception("socket.disconnected event failed")
        for sub in conn.subs.values():
            if sub.event_name:
                k.ddp.unsubscribe(conn, sub.name, sub.event_name)
        conn.subs.clear()
        for callback in conn.close_callbacks():
            try:
                result = callback(conn)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("connection close callback failed")
