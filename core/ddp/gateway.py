"""DDP over websocket at `/websocket`: handshake, heartbeats, methods and subscriptions.

An idle socket costs two tasks: the websocket handler itself reads frames (pings are answered at once), and
a sender drains the connection's bounded outbox. Methods and subs are processed in order by a worker task
that exists only while some are waiting; one heartbeat sweep per gateway pings and drops idle sockets.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import jsonutil
from core.ddp.asgi import AsgiWebsocket, ClientGone
from core.ddp.connection import DdpConnection, Subscription
from core.ddp.registry import DdpMethod
from core.ddp.wire import DirectWriter, direct_writer, wire_of
from core.errors import ApiError, Forbidden, TooManyRequests, Unauthorized, meteor_error
from core.validation import validation_message

if TYPE_CHECKING:
    from core.kernel import Kernel

log = logging.getLogger("orbitchat.ddp")

SUPPORTED_VERSIONS = ("1", "pre2", "pre1")
CLOSE_PROTOCOL = 1002
CLOSE_UNSUPPORTED_DATA = 1007
CLOSE_TOO_BIG = 1009
CLOSE_SERVICE_RESTART = 1012
CLOSE_IDLE = 4000
# Seconds a closing connection's sender gets to flush; a client that reads nothing never lets it finish.
CLOSE_GRACE = 2.0
# Bytes of queued frames written at once (the transport's default high-water mark).
WRITE_BATCH_BYTES = 64 * 1024


def sockjs_frame(frame: str) -> str:
    """SockJS carries DDP messages as a JSON array of JSON strings: `a["{...}"]`."""
    return "a" + jsonutil.dumps([frame]).decode()


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
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self._sweeper: asyncio.Task | None = None
        self.stopping = False
        # What a stopping server waits for: socket handlers, and their `socket.disconnected` announcements.
        self._running: set[asyncio.Future] = set()

    def close_all(self) -> None:
        """The server is stopping: close every socket with 1012 (service restart), so clients reconnect (to
        another process, if there is one) instead of waiting out a dead socket. Sockets opened from now on are
        closed at once."""
        self.stopping = True
        for conn in list(self.kernel.ddp.connections.values()):
            conn.close(CLOSE_SERVICE_RESTART)

    async def drain(self, timeout: float) -> None:
        """Wait (at most `timeout`) for the closed sockets' handlers and announcements to finish, so that
        nothing they do runs after the services and the database stop."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)

    def _track(self, fut: asyncio.Future) -> None:
        self._running.add(fut)
        fut.add_done_callback(self._running.discard)

    async def serve(self, ws: AsgiWebsocket, sockjs: bool = False) -> None:
        """One socket. `sockjs`: the SockJS websocket transport (`o` on open, frames as `a[...]`, close as
        `c[code,"reason"]`), which Meteor-based clients use at `/sockjs/<server>/<session>/websocket`."""
        try:
            await self._serve(ws, sockjs)
        except ClientGone:   # the client went away: `_serve` has cleaned up
            pass

    async def _serve(self, ws: AsgiWebsocket, sockjs: bool) -> None:
        k = self.kernel
        headers = ws.headers
        conn = DdpConnection(k.config.ddp_send_queue, k.client_ip(headers, ws.remote_addr),
                             headers.get("User-Agent"))
        conn.sockjs = sockjs
        await ws.accept()
        if sockjs:
            await ws.send_text("o")
        k.ddp.connections[conn.id] = conn
        self._ensure_sweeper()
        sender = asyncio.create_task(self._sender(ws, conn))
        sender.add_done_callback(lambda _: conn.close(1011))   # no-op unless the sender died on its own
        reader = asyncio.current_task()
        receiving = True

        def stop_receiving() -> None:   # `close` from another task interrupts the wait for a frame
            if receiving and asyncio.current_task() is not reader:
                reader.cancel()

        conn.on_close_request = stop_receiving
        self._track(reader)
        conn.send({"server_id": "0"})
        if self.stopping:
            conn.close(CLOSE_SERVICE_RESTART)
        try:
            await self._receive(ws, conn)
            receiving = False
            await asyncio.wait({sender}, timeout=CLOSE_GRACE)   # flush what close left to send
        finally:
            receiving = False
            sender.cancel()
            if conn.worker is not None:
                conn.worker.cancel()
            await self._cleanup(conn)
        if conn.closing is not None:
            # Last, after cleanup: a client that reads nothing may hold this up, but none of our state.
            if sockjs:
                await ws.send_text(f'c[{conn.closing},"Connection closed"]')
            await ws.close(conn.closing)

    async def _receive(self, ws: AsgiWebsocket, conn: DdpConnection) -> None:
        """Read frames until the connection is closed; returns when `close` was asked (the socket still
        open), raises ClientGone when the client went away."""
        limit = self.kernel.config.max_ddp_frame_bytes
        reader = asyncio.current_task()
        while conn.closing is None:
            try:
                data = await ws.receive()
            except asyncio.CancelledError:
                # Our own interrupt (see `serve`) is absorbed; any other cancellation goes on.
                if conn.closing is not None and reader is not None and reader.uncancel() == 0:
                    return
                raise
            conn.last_seen = time.monotonic()
            if isinstance(data, bytes):
                conn.close(CLOSE_UNSUPPORTED_DATA)
            elif len(data) > limit:
                conn.close(CLOSE_TOO_BIG)
            else:
                self._frame(conn, data)

    def _frame(self, conn: DdpConnection, data: str) -> None:
        # SockJS-style framing (`["{...}"]`) is unwrapped, as ddp-streamer does.
        try:
            msg = jsonutil.ejson_loads(data)
            if isinstance(msg, list) and msg and all(isinstance(m, str) for m in msg):
                for inner in msg:
                    self._frame(conn, inner)
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
            self._enqueue(conn, msg)
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

    def _enqueue(self, conn: DdpConnection, msg: dict) -> None:
        if conn.inbound is None:
            conn.inbound = deque()
        if len(conn.inbound) >= conn.queue_size:   # a flood of calls: same fate as a slow reader
            conn.close(1013)
            return
        conn.inbound.append(msg)
        if conn.worker is None:
            conn.worker = asyncio.create_task(self._worker(conn))

    async def _worker(self, conn: DdpConnection) -> None:
        """Process waiting methods and subs in order; exit when none is left (`_enqueue` starts another)."""
        inbound = conn.inbound
        try:
            while inbound and conn.closing is None:
                msg = inbound.popleft()
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
        finally:
            conn.worker = None
            if not inbound:
                conn.inbound = None   # an idle socket keeps no backlog

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
        if sub is not None and sub.event_name and not any(
                s.name == sub.name and s.event_name == sub.event_name for s in conn.subs.values()):
            # Only when no other subscription of this socket wants the same events (clients do subscribe
            # twice to one event name, e.g. a room opened in two views).
            self.kernel.ddp.unsubscribe(conn, sub.name, sub.event_name)
        conn.send({"msg": "nosub", "id": sid})

    # -- sending, heartbeat, cleanup ----------------------------------------------------------------
    async def _sender(self, ws: AsgiWebsocket, conn: DdpConnection) -> None:
        send = ws.send
        sockjs = conn.sockjs
        direct = None if sockjs else direct_writer(send)
        if direct is not None:
            await self._write_direct(conn, direct)
            return
        while True:
            frame = await conn.next_frame()
            if frame is None:   # `close` was called; `serve` sends the close frame after cleanup
                return
            await send({"type": "websocket.send", "text": sockjs_frame(frame) if sockjs else frame})

    @staticmethod
    async def _write_direct(conn: DdpConnection, out: DirectWriter) -> None:
        """What is queued goes out in one write of up to WRITE_BATCH_BYTES (so a slow reader's frames wait in
        its bounded outbox, not in the transport); a shared frame's bytes are built once for all sockets."""
        outbox = conn.outbox
        while True:
            frame = await conn.next_frame()
            if frame is None:
                return
            batch = [wire_of(frame)]
            size = len(batch[0])
            while outbox and outbox[0] is not None and size < WRITE_BATCH_BYTES:
                batch.append(wire_of(outbox.popleft()))
                size += len(batch[-1])
            if not await out.write(batch):
                return   # the socket is closing: the done callback closes the connection

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        """One sweep for every socket: ping after `interval` s of silence, close (4000) after twice that.
        Runs while there are connections."""
        connections = self.kernel.ddp.connections
        while connections:
            interval = float(self.kernel.settings.get("DDP_Heartbeat_Interval", 30))
            await asyncio.sleep(interval / 3)
            now = time.monotonic()
            for conn in list(connections.values()):
                idle = now - conn.last_seen
                if idle >= 2 * interval:
                    conn.close(CLOSE_IDLE)
                elif idle >= interval:
                    if not conn.pinged:
                        conn.send({"msg": "ping"})
                        conn.pinged = True
                else:
                    conn.pinged = False

    async def _cleanup(self, conn: DdpConnection) -> None:
        """Forget the connection. Our own state goes first and synchronously; `socket.disconnected` (what
        presence counts connections by) runs to its end even if this handler is cancelled once more."""
        k = self.kernel
        k.ddp.connections.pop(conn.id, None)
        if not k.ddp.connections and self._sweeper is not None:
            self._sweeper.cancel()
        for sub in conn.subs.values():
            if sub.event_name:
                k.ddp.unsubscribe(conn, sub.name, sub.event_name)
        conn.subs.clear()
        event = {"connectionId": conn.id, "userId": conn.user_id}
        if self.stopping:   # the process is going: services may drop all its connections at once instead
            event["shutdown"] = True
        announced = asyncio.ensure_future(k.broker.emit("socket.disconnected", event))
        announced.add_done_callback(_log_failure)
        self._track(announced)
        for callback in conn.close_callbacks():
            try:
                result = callback(conn)
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("connection close callback failed")
        try:
            await asyncio.shield(announced)
        except Exception:   # logged by _log_failure
            pass


def _log_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("socket.disconnected event failed", exc_info=task.exception())
