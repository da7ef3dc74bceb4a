"""End-to-end fan-out: OrbitChat's full stack versus a bare Hypercorn websocket broadcast, in one run.

    .venv/bin/python bench/fanout_bench.py [--sizes 10,100,1000] [--rounds 3] [--duration 1.5] [--warmup 0.5]
                                           [--send ddp|rest] [--senders 8] [--window 32] [--in-flight 8000]
                                           [--rate 100] [--rate-size 100] [--mem-conns 1000] [--scale-size 1000]
                                           [--scale-cpu 0.5]

The headline figure. S authenticated websocket subscribers listen to one room (`stream-room-messages`); a
separate sender posts messages through the full stack (DDP `sendMessage`, or REST `chat.sendMessage` with
`--send rest`: token auth, permission and room checks, message hooks, the insert into `rocketchat_message`,
the `watch.messages` event, ddp_streamer's fan-out, the rooms service's counters and subscription
announcements). OrbitChat runs settings, accounts, authorization, presence, ddp_streamer, rooms and
messaging. Measured side by side, interleaved (bare/orbit, then orbit/bare, ...), medians over rounds:

1. Fan-out throughput for each S: deliveries per second, messages per second and send-to-receive latency
   (p50/p99) with `--window` messages in flight, against a bare Hypercorn ASGI app that answers the same
   DDP handshake, `login` and `sub` without checking anything and broadcasts the same `changed` frame (a
   copy of OrbitChat's message document with a new id, text and dates; no database) to the room's sockets
   through ASGI `send`. OrbitChat's gateway does not use ASGI for these frames: it builds a stream event's
   websocket frame once and writes each socket's queued frames with one write (core.ddp.wire). With
   `--bare-writes direct` the bare server writes the same way, which isolates what the full stack costs.
   Server CPU per delivery comes from /proc: on a small shared machine it is the steadier figure, since
   deliveries/s also depends on how much CPU the scheduler gives each process.
2. Latency at a fixed rate (`--rate` messages/s into an S=`--rate-size` room, open loop): p50/p99, and the
   rate actually achieved.
3. Scale-out: the same fan-out at S=`--scale-size` with two OrbitChat processes sharing the database and a
   NATS server (`BROKER_URL=nats://...`; subscribers split across them, the sender on the first) against
   the single process of (1): the scaling ratio of deliveries/s, and the CPU of both processes per delivery.
   On a machine with fewer free cores than server processes, the single process already takes what the
   second would need; `--scale-cpu C` holds each OrbitChat process of this comparison (the single one while
   it is measured here, and each of the two) to C CPUs with a cgroup quota, as nodes of that size would be.
4. Memory per authenticated connection: RSS of each fresh server before and after `--mem-conns` websockets
   (the fan-out subscribers and senders, plus idle ones up to that number) connect, log in with a resume
   token and subscribe to a room, divided by their number. The issue's figure is at 5,000: pass
   `--mem-conns 5000`. It is not the default because every login costs OrbitChat's embedded database tens of
   milliseconds of CPU (its writes to `users` and `usersSessions`), so 5,000 logins take minutes.

Clients are raw asyncio sockets with a hand-rolled websocket handshake: a subscriber counts deliveries by
reading frame headers only (the payload is skipped unread), so one Python process can listen to thousands of
sockets. A few probe subscribers parse every frame and read the send time embedded in the message text
(`bench <seq> <perf_counter_ns>`): those give the latencies, and the sender keeps at most `--window`
messages (and at most `--in-flight` deliveries) not yet received by every probe, so no socket's queue grows
without bound (OrbitChat drops a
client whose queue passes 1,000 frames). Client CPU (this process) is printed next to server CPU so a reader
can tell who was the limit. After each measurement the run waits for every expected delivery (sent messages
x S) and reports any that never arrived.

Users are inserted directly into `users` (resume tokens stored hashed, as accounts stores them; bcrypt cost
4 for the bootstrapped admin) and made members through the rooms REST API (`channels.create` with its
members). Servers run in their own processes (this file re-invoked with `--serve`), the embedded database
and nats-server too; all of them are stopped when the run ends, however it ends. `--keep-logs DIR` keeps the
servers' logs; `FANOUT_PROFILE=<file>` makes each OrbitChat process write a CPU profile of every measured
window (`<file>.<port>.<n>`, for pstats); `FANOUT_DBSTATS=<file>` makes it count the database commands it sends
in each measured window (`<file>.<port>.<n>`, one line per command and collection).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

if __package__ in (None, ""):  # run as a script: make `core` and `bench` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.common import RATE_LIMIT_ENV, Server, median, percentile

FULL_STACK = ("settings", "accounts", "authorization", "presence", "ddp_streamer", "rooms", "messaging")
ROOM_STREAM = "stream-room-messages"
SENDER = "fanout-sender"
PAD = " lorem ipsum dolor sit amet, consectetur adipiscing elit"   # a chat-sized message (~90 chars)
BIG_FRAME = 64          # counting sockets: text frames at least this long are deliveries; shorter ones are read


# ================================================================================================
# Servers (child processes)
# ================================================================================================

async def serve_orbitchat(args: argparse.Namespace) -> None:
    from core.app import create_app
    from core.config import Config
    from core.server import listening_socket, run, settle_heap

    if args.nats_prefix:
        os.environ["ORBITCHAT_NATS_PREFIX"] = args.nats_prefix   # read by the NATS transport
    sock = listening_socket(port=args.port)
    port = sock.getsockname()[1]
    env = {**os.environ, RATE_LIMIT_ENV: "1000000000", "ORBITCHAT_BCRYPT_ROUNDS": "4",
           "ORBITCHAT_ADMIN_USER": "fanout-admin", "ORBITCHAT_ADMIN_PASSWORD": "fanout-admin-password"}
    cfg = Config(port=port, data_dir=Path(args.data_dir), mongo_url=args.mongo_url, db_name=args.db_name,
                 plugins=FULL_STACK, broker_url=args.broker_url or None, env=env)
    app = create_app(cfg)

    @app.before_serving
    async def _ready() -> None:   # registered after the kernel's own: runs once the kernel has started
        settle_heap()             # as `orbitchat serve` does
        common.announce(port)

    dbstats = os.environ.get("FANOUT_DBSTATS")   # diagnosis: database commands of each measured window
    if dbstats:
        from collections import Counter

        from pymongo import monitoring

        class Commands(monitoring.CommandListener):
            def __init__(self) -> None:
                self.on, self.counts, self.windows = False, Counter(), 0

            def started(self, event: Any) -> None:
                if self.on:
                    target = event.command.get(event.command_name)
                    self.counts[f"{event.command_name} {target if isinstance(target, str) else ''}"] += 1

            def succeeded(self, event: Any) -> None:
                pass

            def failed(self, event: Any) -> None:
                pass

        commands = Commands()
        monitoring.register(commands)

        def toggle_dbstats() -> None:
            if commands.on:
                commands.windows += 1
                with open(f"{dbstats}.{port}.{commands.windows}", "w") as out:
                    out.writelines(f"{n:8d} {name}\n" for name, n in commands.counts.most_common())
                commands.counts.clear()
            commands.on = not commands.on

        @app.before_serving
        async def _dbstats() -> None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, toggle_dbstats)

    profile = os.environ.get("FANOUT_PROFILE")   # diagnosis: SIGUSR1 starts / stops and dumps a CPU profile
    if profile:
        import cProfile
        state: dict[str, Any] = {}

        def toggle() -> None:
            if "prof" in state:
                prof = state.pop("prof")
                prof.disable()
                prof.dump_stats(f"{profile}.{port}.{time.monotonic_ns()}")
            else:
                state["prof"] = cProfile.Profile(time.process_time)
                state["prof"].enable()

        @app.before_serving
        async def _profiling() -> None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, toggle)

    await run(app, cfg, common.stop_event(), sock)


def bare_app(direct: bool = False) -> Callable:
    """The baseline: a plain ASGI callable under Hypercorn. DDP handshake, `login` and `sub` are answered
    without any check; `sendMessage` (DDP) or `POST /api/v1/chat.sendMessage` builds the message from a
    template (set once through the `bench.template` method), encodes the `changed` frame once and sends it
    to every socket subscribed to the room: through ASGI `send`, or with `direct` as one prebuilt websocket
    frame written to each socket the way OrbitChat's gateway writes (core.ddp.wire)."""
    import itertools

    from core.ddp.wire import direct_writer, text_frame

    rooms: dict[str, dict[int, Any]] = {}
    template: dict[str, Any] = {}
    ids = itertools.count(1)

    async def broadcast(params: dict) -> dict:
        now = {"$date": int(time.time() * 1000)}
        rid = params.get("rid")
        message = {**template, "_id": params.get("_id") or f"m{next(ids)}", "rid": rid,
                   "msg": params.get("msg", ""), "ts": now, "_updatedAt": now}
        frame = orjson.dumps({"msg": "changed", "collection": ROOM_STREAM, "id": "id",
                              "fields": {"eventName": rid, "args": [message]}}).decode()
        if direct:
            wire = [text_frame(frame)]
            for out in list(rooms.get(rid, {}).values()):
                await out.write(wire)
            return message
        event = {"type": "websocket.send", "text": frame}
        for send in list(rooms.get(rid, {}).values()):
            with contextlib.suppress(Exception):   # a socket going away; its handler forgets it
                await send(event)
        return message

    def reply(send: Callable, obj: dict) -> Any:
        return send({"type": "websocket.send", "text": orjson.dumps(obj).decode()})

    async def websocket(scope, receive, send) -> None:
        await receive()   # websocket.connect
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": '{"server_id":"0"}'})
        me = next(ids)
        joined: list[str] = []
        try:
            while True:
                event = await receive()
                if event["type"] == "websocket.disconnect":
                    return
                data = event.get("text")
                if data is None:
                    continue
                msg = orjson.loads(data)
                kind = msg.get("msg")
                if kind == "ping":
                    await reply(send, {"msg": "pong"})
                elif kind == "connect":
                    await reply(send, {"msg": "connected", "session": f"s{me}"})
                elif kind == "sub":
                    rid = (msg.get("params") or [""])[0]
                    rooms.setdefault(rid, {})[me] = direct_writer(send) if direct else send
                    joined.append(rid)
                    await reply(send, {"msg": "ready", "subs": [msg["id"]]})
                elif kind == "method":
                    name, params = msg.get("method"), msg.get("params") or [{}]
                    if name == "sendMessage":
                        result: Any = await broadcast(params[0])
                    elif name == "login":
                        result = {"id": f"u{me}", "token": params[0].get("resume"), "type": "resume"}
                    elif name == "bench.template":
                        template.clear()
                        template.update(params[0])
                        result = True
                    else:
                        result = None
                    await reply(send, {"msg": "result", "id": msg["id"], "result": result})
                    await reply(send, {"msg": "updated", "methods": [msg["id"]]})
        finally:
            for rid in joined:
                rooms.get(rid, {}).pop(me, None)

    async def http(scope, receive, send) -> None:
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        if scope["method"] == "POST" and scope["path"] == "/api/v1/chat.sendMessage":
            status, out = 200, {"message": await broadcast(orjson.loads(body)["message"]), "success": True}
        else:
            status, out = 404, {"success": False, "error": "Resource not found"}
        payload = orjson.dumps(out)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    async def app(scope, receive, send):
        if scope["type"] == "websocket":
            await websocket(scope, receive, send)
        elif scope["type"] == "http":
            await http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await common.lifespan(receive, send)

    return app


async def serve_bare(args: argparse.Namespace) -> None:
    from hypercorn.asyncio import serve

    from core.config import Config
    from core.server import decline_ws_compression, hypercorn_config, listening_socket, settle_heap

    sock = listening_socket(port=args.port)
    port = sock.getsockname()[1]
    decline_ws_compression()                           # as core.server.run does for OrbitChat
    hc = hypercorn_config(Config(port=port), sock)     # the very same Hypercorn settings
    stop = common.stop_event()
    settle_heap()                                      # as OrbitChat's server does
    common.announce(port)
    await serve(bare_app(args.bare_writes == "direct"), hc, shutdown_trigger=stop.wait)


# ================================================================================================
# Raw websocket clients (parent)
# ================================================================================================

def ws_frame(text: str) -> bytes:
    """A masked client text frame (mask key zero: the payload goes out as is)."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 65536:
        head = bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 0xFF)) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


PONG = ws_frame('{"msg":"pong"}')


class Tally:
    """Deliveries counted by every socket of one server (a plain attribute: the cheapest counter)."""

    def __init__(self) -> None:
        self.n = 0


class WsClient(asyncio.Protocol):
    """One websocket. Full mode parses every frame (set-up, probes, senders); count mode reads only frame
    headers and counts deliveries, answering DDP pings (short frames are still read)."""

    def __init__(self, host: str, port: int, tally: Tally) -> None:
        self.request = (f"GET /websocket HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}"
                        "\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
        self.tally = tally
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened = loop.create_future()
        self.closed = loop.create_future()
        self.full = True
        self.upgraded = False
        self.buf = bytearray()
        self.hold = b""
        self.skip = 0
        self.pending: dict[str, asyncio.Future] = {}
        self.on_changed: Callable[[dict, int], None] | None = None   # probes: (message, payload size)
        self.results = 0
        self.errors = 0
        self.first_error: Any = None
        self.ids = 0

    # -- transport callbacks ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        for fut in (self.opened, *self.pending.values()):
            if not fut.done():
                fut.set_exception(ConnectionError("websocket closed"))

    def data_received(self, data: bytes) -> None:
        if not self.full:
            self._count(data)
            return
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end])
            del self.buf[:end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                return
            self.upgraded = True
        self._parse()

    # -- full parsing -------------------------------------------------------------------------------
    def _parse(self) -> None:
        buf, pos, n = self.buf, 0, len(self.buf)
        while n - pos >= 2:
            op, ln = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
            hl = 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln, hl = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln, hl = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            end = pos + hl + ln
            if end > n:
                break
            payload = bytes(buf[pos + hl:end])
            pos = end
            if op == 1:
                self._message(orjson.loads(payload), len(payload))
            elif op == 9:
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)
            elif op == 8:
                self.transport.close()
        del buf[:pos]

    def _message(self, msg: dict, size: int) -> None:
        kind = msg.get("msg")
        if kind == "changed":
            if msg.get("collection") == ROOM_STREAM:
                self.tally.n += 1
                if self.on_changed is not None:
                    self.on_changed(msg, size)
        elif kind == "result":
            fut = self.pending.pop(msg.get("id"), None)
            if fut is not None:
                fut.set_result(msg)
                return
            self.results += 1
            if "error" in msg:
                self.errors += 1
                self.first_error = self.first_error or msg["error"]
        elif kind == "ping":
            self.transport.write(PONG)
        elif kind in ("ready", "nosub", "connected", "failed"):
            keys = msg.get("subs") or [msg.get("id") or "connect"]
            for key in keys:
                fut = self.pending.pop(key, None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        elif kind is None and "server_id" in msg and not self.opened.done():
            self.opened.set_result(None)

    # -- counting -----------------------------------------------------------------------------------
    def _count(self, data: bytes) -> None:
        if self.hold:                       # a header (or a short frame) cut by the previous read
            data, self.hold = self.hold + data, b""
        n, i = len(data), self.skip
        if i >= n:
            self.skip = i - n
            return
        self.skip = 0
        tally = self.tally
        while i < n:
            if n - i < 2:
                self.hold = data[i:]
                return
            ln = data[i + 1] & 0x7F
            hl = 2
            if ln == 126:
                if n - i < 4:
                    self.hold = data[i:]
                    return
                ln, hl = (data[i + 2] << 8) | data[i + 3], 4
            elif ln == 127:
                if n - i < 10:
                    self.hold = data[i:]
                    return
                ln, hl = int.from_bytes(data[i + 2:i + 10], "big"), 10
            end = i + hl + ln
            if ln >= BIG_FRAME:
                tally.n += 1
            elif end > n:
                self.hold = data[i:]
                return
            else:
                op = data[i] & 0x0F
                if op == 9 or b'"ping"' in data[i + hl:end]:
                    self.transport.write(PONG)
                elif op == 8:
                    self.transport.close()
            if end > n:
                self.skip = end - n
                return
            i = end

    def count_only(self) -> None:
        """Switch to counting (between frames: nothing may be buffered)."""
        assert not self.buf, "switching to count mode with a partial frame buffered"
        self.full = False

    # -- DDP ----------------------------------------------------------------------------------------
    def send(self, obj: Any) -> None:
        self.transport.write(ws_frame(orjson.dumps(obj).decode()))

    def next_id(self) -> str:
        self.ids += 1
        return str(self.ids)

    def expect(self, key: str) -> asyncio.Future:
        fut = asyncio.get_running_loop().create_future()
        self.pending[key] = fut
        return fut

    async def ddp_connect(self) -> None:
        await self.opened
        fut = self.expect("connect")
        self.send({"msg": "connect", "version": "1", "support": ["1"]})
        reply = await fut
        if reply.get("msg") != "connected":
            raise RuntimeError(f"DDP connect refused: {reply}")

    async def call(self, method: str, *params: Any) -> Any:
        mid = self.next_id()
        fut = self.expect(mid)
        self.send({"msg": "method", "id": mid, "method": method, "params": list(params)})
        reply = await fut
        if "error" in reply:
            raise RuntimeError(f"{method} failed: {reply['error']}")
        return reply.get("result")

    async def sub(self, name: str, *params: Any) -> None:
        sid = "s" + self.next_id()
        fut = self.expect(sid)
        self.send({"msg": "sub", "id": sid, "name": name, "params": list(params)})
        reply = await fut
        if reply.get("msg") != "ready":
            raise RuntimeError(f"sub {name} {params} refused: {reply}")

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def open_client(server: Server, tally: Tally, token: str | None) -> WsClient:
    """A websocket to `server`: DDP connect, and `login` with a resume token when given."""
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: WsClient("127.0.0.1", server.port, tally),
                                             "127.0.0.1", server.port)
    await asyncio.wait_for(client.ddp_connect(), 60)
    if token is not None:
        await asyncio.wait_for(client.call("login", {"resume": token}), 120)
    return client


async def open_many(server: Server, tally: Tally, tokens: list[str], concurrency: int = 64) -> list[WsClient]:
    gate = asyncio.Semaphore(concurrency)

    async def one(token: str) -> WsClient:
        async with gate:
            return await open_client(server, tally, token)

    return list(await asyncio.gather(*(one(t) for t in tokens)))


async def subscribe_all(clients: list[WsClient], rid: str, concurrency: int = 64) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(c: WsClient) -> None:
        async with gate:
            await asyncio.wait_for(c.sub(ROOM_STREAM, rid, False), 60)

    await asyncio.gather(*(one(c) for c in clients))


# ================================================================================================
# Probes, flow control, senders
# ================================================================================================

class Probe:
    """A subscriber that parses every delivery: latencies from the send time in the text, and counts for
    the sender's window."""

    def __init__(self, client: WsClient, flow_of: Callable[[], Flow]) -> None:
        self.client = client
        self.received = 0
        self.frame_size = 0
        self._flow_of = flow_of
        client.on_changed = self.on_changed

    def on_changed(self, msg: dict, size: int) -> None:
        now = time.perf_counter_ns()
        flow = self._flow_of()
        text = msg["fields"]["args"][0].get("msg", "")
        parts = text.split(" ", 3)
        if len(parts) < 3 or parts[0] != "bench" or flow is None:
            return
        self.received += 1
        self.frame_size = size
        if flow.recording:
            flow.latencies.append((now - int(parts[2])) / 1e6)
        flow.wake()


class Flow:
    """At most `window` messages sent and not yet received by every probe. Senders stop when told to
    (a flag, not task cancellation: Python 3.11's `wait_for` can swallow a cancellation)."""

    def __init__(self, probes: list[Probe], window: int) -> None:
        self.probes = probes
        self.window = window
        self.base = [p.received for p in probes]
        self.sent = 0
        self.latencies: list[float] = []
        self.recording = False
        self.stopped = False
        self._event = asyncio.Event()

    def delivered(self) -> int:
        return min(p.received - b for p, b in zip(self.probes, self.base))

    def wake(self) -> None:
        self._event.set()

    def stop(self) -> None:
        self.stopped = True
        self._event.set()

    async def slot(self) -> bool:
        """Wait for room in the window and take it; False once stopped."""
        while not self.stopped and self.sent - self.delivered() >= self.window:
            self._event.clear()
            await self._event.wait()
        if self.stopped:
            return False
        self.sent += 1
        return True

    async def drain(self, timeout: float) -> bool:
        """Wait until every probe has received every message sent."""
        try:
            async with asyncio.timeout(timeout):
                while self.delivered() < self.sent:
                    self._event.clear()
                    await self._event.wait()
        except TimeoutError:
            return False
        return True


def message_text(seq: int) -> str:
    return f"bench {seq} {time.perf_counter_ns()}{PAD}"


class DdpSender:
    """`sendMessage` over K DDP connections in turn; results are counted as they come back."""

    def __init__(self, clients: list[WsClient]) -> None:
        self.clients = clients
        self.turn = 0

    def errors(self) -> tuple[int, Any]:
        return sum(c.errors for c in self.clients), next((c.first_error for c in self.clients if c.first_error),
                                                         None)

    async def run(self, flow: Flow, rid: str, rate: float = 0.0) -> None:
        start, k = time.monotonic(), 0
        while not flow.stopped:
            if rate:
                k += 1
                delay = start + k / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            if not await flow.slot():
                return
            client = self.clients[self.turn % len(self.clients)]
            self.turn += 1
            client.send({"msg": "method", "id": f"m{self.turn}", "method": "sendMessage",
                         "params": [{"_id": f"b{self.turn:x}{os.urandom(5).hex()}", "rid": rid,
                                     "msg": message_text(flow.sent)}]})
            if self.turn % 16 == 0:
                await asyncio.sleep(0)   # let the probes' reads in between writes


class RestSender:
    """`POST /api/v1/chat.sendMessage` over K keep-alive sockets, one request in flight on each."""

    def __init__(self, server: Server, headers: dict[str, str], count: int) -> None:
        self.server = server
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.count = count
        self.conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._errors = 0
        self._first_error: Any = None

    async def open(self) -> None:
        for _ in range(self.count):
            self.conns.append(await asyncio.open_connection("127.0.0.1", self.server.port))

    def errors(self) -> tuple[int, Any]:
        return self._errors, self._first_error

    async def run(self, flow: Flow, rid: str, rate: float = 0.0) -> None:
        start = time.monotonic()
        ticket = iter(range(1, 1 << 62))

        async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while not flow.stopped:
                if rate:
                    delay = start + next(ticket) / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if not await flow.slot():
                    return
                body = orjson.dumps({"message": {"_id": f"r{os.urandom(6).hex()}", "rid": rid,
                                                 "msg": message_text(flow.sent)}})
                writer.write(f"POST /api/v1/chat.sendMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n{self.headers}"
                             f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                             + body)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                reply = await reader.readexactly(length)
                if not head.startswith(b"HTTP/1.1 200 "):
                    self._errors += 1
                    self._first_error = self._first_error or reply[:300]

        await asyncio.gather(*(worker(r, w) for r, w in self.conns))

    def close(self) -> None:
        for _, w in self.conns:
            w.close()


# ================================================================================================
# Set-up: database, users, rooms
# ================================================================================================

@dataclass
class BenchUser:
    id: str
    username: str
    token: str


def user_docs(prefix: str, count: int, roles: tuple[str, ...] = ("user",)) -> tuple[list[dict], list[BenchUser]]:
    """Rocket.Chat-shaped user documents with one resume token each (stored hashed, as accounts does)."""
    from core.context import random_id
    from core.security import hash_token, new_token

    now = datetime.now(UTC)
    docs, users = [], []
    for i in range(count):
        uid, token, username = random_id(), new_token(), f"{prefix}{i}"
        docs.append({
            "_id": uid, "username": username, "name": username.title(), "type": "user", "active": True,
            "emails": [{"address": f"{username}@example.org", "verified": True}], "roles": list(roles),
            "status": "offline", "statusConnection": "offline", "statusDefault": "online", "utcOffset": 0,
            "createdAt": now, "_updatedAt": now,
            "services": {"resume": {"loginTokens": [{"when": now, "hashedToken": hash_token(token)}]}},
        })
        users.append(BenchUser(uid, username, token))
    return docs, users


async def insert_users(mongo_url: str, db_name: str, prefix: str, count: int,
                       roles: tuple[str, ...] = ("user",)) -> list[BenchUser]:
    from pymongo import AsyncMongoClient

    docs, users = user_docs(prefix, count, roles)
    client = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        for i in range(0, len(docs), 1000):
            await client[db_name]["users"].insert_many(docs[i:i + 1000], ordered=False)
    finally:
        await client.close()
    return users


class Rest:
    """Just enough REST for set-up (httpx), as one user."""

    def __init__(self, server: Server, user: BenchUser) -> None:
        import httpx

        self.http = httpx.AsyncClient(base_url=server.base_url, timeout=120,
                                      headers={"X-User-Id": user.id, "X-Auth-Token": user.token})

    async def post(self, path: str, **body: Any) -> dict:
        r = await self.http.post(f"/api/v1/{path}", json=body)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
        return r.json()

    async def channel(self, name: str, members: list[BenchUser]) -> str:
        """A public channel owned by this user: created with up to 999 members in one request (one bulk
        insert of subscriptions), any further members invited (one by one, with a system message each)."""
        first, more = members[:999], members[999:]
        rid = (await self.post("channels.create", name=name, members=[u.username for u in first]))["channel"]["_id"]
        for i in range(0, len(more), 1000):
            await self.post("channels.invite", roomId=rid, userIds=[u.id for u in more[i:i + 1000]])
        return rid

    async def aclose(self) -> None:
        await self.http.aclose()


# ================================================================================================
# Measurement
# ================================================================================================

@dataclass
class Audience:
    """The subscribers of one room on one target (one or two servers), and how to send to it."""

    label: str
    rid: str
    size: int
    probes: list[Probe]
    sender: Any
    servers: list[Server]
    tally: Tally
    flow: Flow | None = None


@dataclass
class Sample:
    deliveries: int
    messages: int
    seconds: float
    server_cpu: float       # CPU seconds of the server process(es) in the window
    db_cpu: float
    client_cpu: float
    latencies: list[float]
    lost: int = 0
    errors: int = 0
    nats_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds

    @property
    def msg_rate(self) -> float:
        return self.messages / self.seconds

    @property
    def us_per_delivery(self) -> float:
        return 1e6 * self.server_cpu / max(1, self.deliveries)


class Meter:
    """CPU of the processes the servers use: the embedded database, and nats-server when it runs."""

    def __init__(self, db_pid: int, nats_pid: int | None = None) -> None:
        self.db_pid = db_pid
        self.nats_pid = nats_pid

    def cpu(self) -> float:
        return common.cpu_seconds(self.db_pid)

    def nats_cpu(self) -> float:
        return common.cpu_seconds(self.nats_pid) if self.nats_pid else 0.0


async def measure(aud: Audience, meter: Meter, window: int, warmup: float, duration: float,
                  rate: float = 0.0) -> Sample:
    flow = aud.flow = Flow(aud.probes, window)
    start_count = aud.tally.n
    start_errors = aud.sender.errors()[0]
    task = asyncio.create_task(aud.sender.run(flow, aud.rid, rate))
    try:
        await asyncio.sleep(warmup)
        n0, m0, l0 = aud.tally.n, flow.delivered(), len(flow.latencies)
        flow.recording = True
        _profile_toggle(aud)
        cpu0 = sum(s.cpu_seconds() for s in aud.servers)
        db0, nats0, pc0, t0 = meter.cpu(), meter.nats_cpu(), time.process_time(), time.perf_counter()
        await asyncio.sleep(duration)
        t1, pc1, db1, nats1 = time.perf_counter(), time.process_time(), meter.cpu(), meter.nats_cpu()
        cpu1 = sum(s.cpu_seconds() for s in aud.servers)
        n1, m1 = aud.tally.n, flow.delivered()
        flow.recording = False
        _profile_toggle(aud)
    finally:
        flow.stop()
        done, _ = await asyncio.wait({task}, timeout=30)
        if not done:
            task.cancel()
        elif task.exception() is not None:
            raise task.exception()
    # Every message sent must reach every subscriber: wait for the probes, then for the counters.
    await flow.drain(15)
    expected = flow.sent * aud.size
    end = time.monotonic() + 15
    while aud.tally.n - start_count < expected and time.monotonic() < end:
        await asyncio.sleep(0.05)
    lost = expected - (aud.tally.n - start_count)
    return Sample(n1 - n0, m1 - m0, t1 - t0, cpu1 - cpu0, db1 - db0, pc1 - pc0, flow.latencies[l0:],
                  lost=lost, errors=aud.sender.errors()[0] - start_errors, nats_cpu=nats1 - nats0)


def _profile_toggle(aud: Audience) -> None:
    if os.environ.get("FANOUT_PROFILE") or os.environ.get("FANOUT_DBSTATS"):
        for srv in aud.servers:
            if srv.name.startswith("orbit"):
                srv.proc.send_signal(signal.SIGUSR1)


def window_for(args: argparse.Namespace, size: int) -> int:
    """Messages in flight for a room of `size`: `--window`, fewer in large rooms (`--in-flight` deliveries)."""
    return max(2, min(args.window, args.in_flight // size))


async def rss_settled(server: Server, quiet: float = 0.02, timeout: float = 30) -> int:
    """The server's RSS once it has stopped working (CPU below `quiet` of a core for half a second)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        c0 = server.cpu_seconds()
        await asyncio.sleep(0.5)
        if server.cpu_seconds() - c0 <= quiet * 0.5 + 1e-9:
            break
    return server.rss_bytes()


# ================================================================================================
# Orchestration
# ================================================================================================

def start_nats(log_dir: Path) -> tuple[subprocess.Popen, str]:
    exe = shutil.which("nats-server") or "/usr/sbin/nats-server"
    from core.storage import free_port

    port = free_port()
    with open(log_dir / "nats.log", "wb") as log:
        proc = common.track(subprocess.Popen([exe, "-a", "127.0.0.1", "-p", str(port)], stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             preexec_fn=common.die_with_parent), last=True)  # noqa: PLW1509
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"nats://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("nats-server did not start") from None
            time.sleep(0.05)


@dataclass
class Run:
    args: argparse.Namespace
    servers: dict[str, Server]
    meter: Meter
    mongo_url: str
    db_name: str
    audiences: dict[tuple[str, int], Audience] = field(default_factory=dict)
    samples: dict[tuple[str, int], list[Sample]] = field(default_factory=dict)
    rate_samples: dict[str, list[Sample]] = field(default_factory=dict)
    memory: dict[str, tuple[int, int, int, float, str]] = field(default_factory=dict)
    frame_sizes: dict[str, int] = field(default_factory=dict)
    clients: list[WsClient] = field(default_factory=list)
    rooms: dict[int, str] = field(default_factory=dict)    # S -> room id (-1: two-process room, 0: idle room)
    setup_notes: list[str] = field(default_factory=list)
    log_cut: dict[str, int] = field(default_factory=dict)
    quotas: dict[str, common.CpuQuota] = field(default_factory=dict)   # --scale-cpu: server name -> its group

    @property
    def orbit_sizes(self) -> list[int]:
        """Room sizes on the single OrbitChat process: `--sizes`, and the two-process size for comparison."""
        return sorted(set(self.args.sizes) | ({self.args.scale_size} if self.args.scale_size else set()))


@dataclass
class Cast:
    """The users of the run (inserted directly) and the rooms they are members of."""

    sender: BenchUser
    subscribers: list[BenchUser]          # counting subscribers: the first S-3 are in the room of size S
    probes: dict[int, list[BenchUser]]    # three probe users per room size
    scale_probes: list[BenchUser]         # four for the two-process room
    idle: list[BenchUser]                 # connected and logged in only for the memory figure


async def cast_and_rooms(run: Run) -> Cast:
    a = run.args
    sizes = run.orbit_sizes
    t = time.monotonic()
    insert = lambda prefix, n, roles=("user",): insert_users(run.mongo_url, run.db_name, prefix, n, roles)
    sender = (await insert(SENDER, 1, ("user", "bot")))[0]       # bot: send-many-messages
    subscribers = await insert("fan", max(sizes) - 3)
    probe_users = await insert("probe", 3 * len(sizes) + 4)
    fanout_conns = a.senders + len(subscribers) + 3 * len(sizes)
    idle = await insert("idle", max(0, a.mem_conns - fanout_conns))
    cast = Cast(sender, subscribers, {size: probe_users[3 * i:3 * i + 3] for i, size in enumerate(sizes)},
                probe_users[3 * len(sizes):], idle)
    rest = Rest(run.servers["orbit"], sender)
    try:
        for size in sizes:
            run.rooms[size] = await rest.channel(f"fanout-{size}", subscribers[:size - 3] + cast.probes[size])
        if a.scale_size:
            run.rooms[-1] = await rest.channel(f"fanout-scale-{a.scale_size}",
                                               subscribers[:a.scale_size - 4] + cast.scale_probes)
        run.rooms[0] = await rest.channel("fanout-idle", [])
    finally:
        await rest.aclose()
    users = 1 + len(subscribers) + len(probe_users) + len(idle)
    run.setup_notes.append(f"set-up: {users} users inserted, {len(run.rooms)} rooms created with their members "
                           f"through REST in {time.monotonic() - t:.1f}s")
    return cast


async def warm_rooms(run: Run, cast: Cast) -> None:
    """The first message in a room alerts every member (a write per member, as Rocket.Chat's
    `setAlertForRoomIdExcludingUserId`); later messages touch no subscription until members read. That
    one-time wave is paid here, before anyone subscribes, and reported: the measured windows show the
    steady state instead of a wave started by an earlier scenario."""
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(run.mongo_url, tz_aware=True)
    subs = client[run.db_name]["rocketchat_subscription"]
    rest = Rest(run.servers["orbit"], cast.sender)
    t, db = time.monotonic(), run.meter.cpu()
    try:
        members = 0
        for rid in run.rooms.values():
            await rest.post("chat.postMessage", roomId=rid, text="warm-up")
            members += await subs.count_documents({"rid": rid}) - 1
        deadline = time.monotonic() + 300
        for rid in run.rooms.values():   # the sender's own subscription stays unalerted
            while await subs.count_documents({"rid": rid, "alert": False}) > 1:
                if time.monotonic() > deadline:
                    raise RuntimeError("the rooms service did not alert the members of the warm-up rooms")
                await asyncio.sleep(0.2)
    finally:
        await rest.aclose()
        await client.close()
    took, cpu = time.monotonic() - t, run.meter.cpu() - db
    run.setup_notes.append(f"set-up: a first message in each room alerted its members ({members} in all) in "
                           f"{took:.1f}s, database CPU {1e3 * cpu / max(1, members):.1f} ms per member (once; "
                           "later messages touch no subscription until members read)")
    print(run.setup_notes[-1], flush=True)


async def open_senders(run: Run, srv: Server, tally: Tally, cast: Cast) -> Any:
    a = run.args
    if a.send == "ddp":
        clients = await open_many(srv, tally, [cast.sender.token] * a.senders)
        run.clients += clients
        return DdpSender(clients)
    sender = RestSender(srv, {"X-User-Id": cast.sender.id, "X-Auth-Token": cast.sender.token}, a.senders)
    await sender.open()
    return sender


async def setup_server(run: Run, name: str, sizes: list[int], cast: Cast) -> None:
    """Every socket one server gets, opened and subscribed, with its memory cost: RSS before and after,
    CPU per connection. Subscription order is delivery order: each room's probes come first, in the middle
    and last."""
    srv = run.servers[name]
    tally = Tally()
    before = await rss_settled(srv)
    t, cpu, db = time.monotonic(), srv.cpu_seconds(), run.meter.cpu()
    sender = await open_senders(run, srv, tally, cast)
    counters = await open_many(srv, tally, [u.token for u in cast.subscribers[:max(sizes) - 3]])
    probes = {size: await open_many(srv, tally, [u.token for u in cast.probes[size]]) for size in sizes}
    idle = await open_many(srv, tally, [u.token for u in cast.idle], concurrency=100)
    run.clients += counters + idle + [c for group in probes.values() for c in group]
    for size in sizes:
        aud = Audience(f"{name} S={size}", run.rooms[size], size, [], sender, [srv], tally)
        aud.probes = [Probe(c, lambda aud=aud: aud.flow) for c in probes[size]]
        members = counters[:size - 3]
        half = len(members) // 2
        for group in (probes[size][:1], members[:half], probes[size][1:2], members[half:], probes[size][2:]):
            await subscribe_all(group, run.rooms[size])
        run.audiences[(name, size)] = aud
    await subscribe_all(idle, run.rooms[0], concurrency=100)
    opened = time.monotonic() - t
    for c in counters + idle:
        c.count_only()
    n = (run.args.senders if run.args.send == "ddp" else 0) + len(counters) + len(idle) + 3 * len(sizes)
    cost = f"server CPU {1e3 * (srv.cpu_seconds() - cpu) / n:.1f} ms"
    if name.startswith("orbit"):
        cost += f", database {1e3 * (run.meter.cpu() - db) / n:.1f} ms"
    after = await rss_settled(srv)
    run.memory[name] = (before, after, n, opened, cost)
    run.setup_notes.append(f"set-up: {name}: {n} connections ({len(idle)} idle) connected, logged in and "
                           f"subscribed in {opened:.1f}s ({cost} per connection); RSS {before / 2**20:.1f} -> "
                           f"{after / 2**20:.1f} MiB")
    print(run.setup_notes[-1], flush=True)


async def setup_pair(run: Run, cast: Cast) -> None:
    """The two-process target: the room of `--scale-size` members, half of them (and two probes) on each
    process, the senders on the first."""
    a = run.args
    p1, p2 = run.servers["orbit-n1"], run.servers["orbit-n2"]
    tally = Tally()
    t = time.monotonic()
    sender = await open_senders(run, p1, tally, cast)
    members = cast.subscribers[:a.scale_size - 4]
    half = len(members) // 2
    aud = Audience(f"2 processes S={a.scale_size}", run.rooms[-1], a.scale_size, [], sender, [p1, p2], tally)
    for srv, group, probe_users in ((p1, members[:half], cast.scale_probes[:2]),
                                    (p2, members[half:], cast.scale_probes[2:])):
        counters = await open_many(srv, tally, [u.token for u in group])
        probes = await open_many(srv, tally, [u.token for u in probe_users])
        run.clients += counters + probes
        aud.probes += [Probe(c, lambda: aud.flow) for c in probes]
        for part in (probes[:1], counters, probes[1:]):
            await subscribe_all(part, run.rooms[-1])
        for c in counters:
            c.count_only()
    run.audiences[("pair", a.scale_size)] = aud
    run.setup_notes.append(f"set-up: 2 processes: {a.scale_size} subscribers split across them, {a.senders} "
                           f"senders on the first, in {time.monotonic() - t:.1f}s")
    print(run.setup_notes[-1], flush=True)


async def give_bare_the_template(run: Run, cast: Cast) -> None:
    """The bare server sends a copy of OrbitChat's own message document: take one from a real delivery."""
    a = run.args
    aud = run.audiences[("orbit", min(a.sizes))]
    probe = aud.probes[0]
    captured: list[dict] = []
    probe.client.on_changed = lambda msg, size: captured.append(msg)
    try:
        if a.send == "ddp":
            await aud.sender.clients[0].call("sendMessage", {"rid": aud.rid, "msg": message_text(0)})
        else:
            rest = Rest(run.servers["orbit"], cast.sender)
            try:
                await rest.post("chat.sendMessage", message={"rid": aud.rid, "msg": message_text(0)})
            finally:
                await rest.aclose()
        end = time.monotonic() + 15
        while not captured and time.monotonic() < end:
            await asyncio.sleep(0.02)
    finally:
        probe.client.on_changed = probe.on_changed
    if not captured:
        raise RuntimeError("no delivery from OrbitChat seen during set-up")
    tmp = await open_client(run.servers["bare"], Tally(), cast.sender.token)
    try:
        await tmp.call("bench.template", captured[0]["fields"]["args"][0])
    finally:
        tmp.abort()
    await asyncio.sleep(1.0)   # the set-up message's deliveries drain before anything is counted


def solo_key(a: argparse.Namespace) -> str:
    """The single process of the scale-out comparison: the headline one, or with `--scale-cpu` the same
    process held to the quota while measured (a separate sample)."""
    return "solo" if a.scale_cpu else "orbit"


@contextlib.contextmanager
def held_to_quota(run: Run, name: str | None):
    """With `--scale-cpu`, the single OrbitChat process joins its quota group for one measurement."""
    quota = run.quotas.get(name) if name else None
    if quota is None:
        yield
        return
    pid = run.servers[name].proc.pid
    quota.add(pid)
    try:
        yield
    finally:
        quota.release(pid)


async def bench(run: Run) -> None:
    a = run.args
    common.raise_open_files_limit()
    cast = await cast_and_rooms(run)
    await warm_rooms(run, cast)
    await setup_server(run, "orbit", run.orbit_sizes, cast)
    await setup_server(run, "bare", a.sizes, cast)
    if a.scale_size:
        await setup_pair(run, cast)
    await give_bare_the_template(run, cast)
    for name in ("orbit", "bare"):
        run.frame_sizes[name] = 0
    print(f"\n{a.rounds} rounds; per scenario warm-up {a.warmup}s + {a.duration}s measured; sender: "
          f"{a.send.upper()} over {a.senders} connections; messages in flight: "
          + ", ".join(f"S={size} {window_for(a, size)}" for size in a.sizes) + "; order alternates every round\n",
          flush=True)
    for rnd in range(a.rounds):
        order = ["bare", "orbit"] if rnd % 2 == 0 else ["orbit", "bare"]
        line = []
        for size in a.sizes:
            for name in order:
                aud = run.audiences[(name, size)]
                s = await measure(aud, run.meter, window_for(a, size), a.warmup, a.duration)
                run.samples.setdefault((name, size), []).append(s)
                run.frame_sizes[name] = max(p.frame_size for p in aud.probes)
                if s.lost or s.errors:
                    print(f"  ! {aud.label}: {s.lost} deliveries missing, {s.errors} send errors "
                          f"({aud.sender.errors()[1]})", flush=True)
            b, o = run.samples[("bare", size)][-1], run.samples[("orbit", size)][-1]
            line.append(f"S={size} {b.rate:,.0f}/{o.rate:,.0f}")
        if a.scale_size:
            pair_order = [(solo_key(a), a.scale_size), ("pair", a.scale_size)]
            if a.scale_size in a.sizes and not a.scale_cpu:   # the single process was just measured at this size
                pair_order = pair_order[1:]
            for key in pair_order if rnd % 2 == 0 else pair_order[::-1]:
                aud = run.audiences[("orbit" if key[0] == "solo" else key[0], key[1])]
                with held_to_quota(run, "orbit" if key[0] == "solo" else None):
                    s = await measure(aud, run.meter, window_for(a, aud.size), a.warmup, a.duration)
                run.samples.setdefault(key, []).append(s)
                if s.lost or s.errors:
                    print(f"  ! {aud.label}: {s.lost} deliveries missing, {s.errors} send errors "
                          f"({aud.sender.errors()[1]})", flush=True)
            line.append(f"2 procs S={a.scale_size} {run.samples[('pair', a.scale_size)][-1].rate:,.0f}")
        if a.rate:
            for name in order:
                aud = run.audiences[(name, a.rate_size)]
                # Open loop; the window (a second of messages, within --in-flight) only bounds an overload.
                window = max(2, min(int(a.rate), a.in_flight // a.rate_size))
                s = await measure(aud, run.meter, window, a.warmup, a.duration, rate=a.rate)
                run.rate_samples.setdefault(name, []).append(s)
            b, o = run.rate_samples["bare"][-1], run.rate_samples["orbit"][-1]
            line.append(f"{a.rate:g} msg/s p99 {percentile(b.latencies, .99):.1f}/"
                        f"{percentile(o.latencies, .99):.1f} ms")
        print(f"round {rnd + 1} (deliveries/s bare/orbit): " + " | ".join(line), flush=True)


def report(run: Run) -> None:
    a = run.args
    print(f"\nFan-out, S subscribers in one room, medians over {a.rounds} rounds; latency under load (messages "
          "in flight: " + ", ".join(f"S={size} {window_for(a, size)}" for size in a.sizes) + "), probe samples pooled")
    head = (f"{'S':>5} | {'deliveries/s':>17} {'o/b':>5} | {'msgs/s':>11} | {'p50 ms':>11} | {'p99 ms':>11} | "
            f"{'CPU us/delivery':>22} {'b/o':>5} | {'CPU, share of a core':>20} | {'client CPU':>10}")
    sub = (f"{'':>5} | {'bare':>8} {'orbit':>8} {'':>5} | {'bare':>5} {'orbit':>5} | {'bare':>5} {'orbit':>5} | "
           f"{'bare':>5} {'orbit':>5} | {'bare':>6} {'orbit':>6} {'+db':>8} {'':>5} | {'bare':>6} {'orbit':>6} "
           f"{'db':>6} | {'bare':>4} {'orbit':>5}")
    print(head + "\n" + sub + "\n" + "-" * len(head))
    summary, efficiency, with_db = [], [], []
    for size in a.sizes:
        b, o = run.samples[("bare", size)], run.samples[("orbit", size)]
        rb, ro = median([s.rate for s in b]), median([s.rate for s in o])
        mb, mo = median([s.msg_rate for s in b]), median([s.msg_rate for s in o])
        lb = [x for s in b for x in s.latencies]
        lo = [x for s in o for x in s.latencies]
        cb, co = median([s.us_per_delivery for s in b]), median([s.us_per_delivery for s in o])
        cdb = median([1e6 * (s.server_cpu + s.db_cpu) / max(1, s.deliveries) for s in o])
        sb, so = median([s.server_cpu / s.seconds for s in b]), median([s.server_cpu / s.seconds for s in o])
        sdb = median([s.db_cpu / s.seconds for s in o])
        kb, ko = median([s.client_cpu / s.seconds for s in b]), median([s.client_cpu / s.seconds for s in o])
        print(f"{size:>5} | {rb:>8,.0f} {ro:>8,.0f} {ro / rb:>5.2f} | {mb:>5,.0f} {mo:>5,.0f} | "
              f"{percentile(lb, .5):>5.0f} {percentile(lo, .5):>5.0f} | {percentile(lb, .99):>5.0f} "
              f"{percentile(lo, .99):>5.0f} | {cb:>6,.0f} {co:>6,.0f} {cdb:>8,.0f} {cb / co:>5.2f} | "
              f"{100 * sb:>5.0f}% {100 * so:>5.0f}% {100 * sdb:>5.0f}% | {100 * kb:>3.0f}% {100 * ko:>4.0f}%")
        summary.append(f"S={size} {ro / rb:.2f}")
        efficiency.append(f"S={size} {cb / co:.2f}")
        with_db.append(f"S={size} {cb / cdb:.2f}")
    per_round = {size: " ".join(f"{o.rate / b.rate:.2f}" for b, o in
                                zip(run.samples[("bare", size)], run.samples[("orbit", size)])) for size in a.sizes}
    print("orbit/bare deliveries/s per round: " + "; ".join(f"S={k}: {v}" for k, v in per_round.items()))
    print(f"""
CPU us/delivery: CPU time of the server process per message delivered to one subscriber (from /proc); `+db`
  adds the embedded database's CPU (OrbitChat only; the bare server has none). b/o = bare/orbit: OrbitChat's
  deliveries per CPU-second relative to the bare broadcast. On this shared 2-core machine these are the
  steady figures: deliveries/s depends on how much CPU the scheduler gave each process (the share columns).
client CPU: this load generator's share of one core; near 100% means the client bounded deliveries/s.
frames: OrbitChat {run.frame_sizes.get('orbit', 0)} bytes, bare {run.frame_sizes.get('bare', 0)} bytes (the bare server \
sends a copy of OrbitChat's message document); bare writes: {run.args.bare_writes}.""")
    lost = sum(s.lost for v in [*run.samples.values(), *run.rate_samples.values()] for s in v)
    errors = sum(s.errors for v in [*run.samples.values(), *run.rate_samples.values()] for s in v)
    print(f"deliveries missing after all scenarios: {lost}; send errors: {errors}")

    rate_line = ""
    if a.rate and run.rate_samples:
        lb = [x for s in run.rate_samples["bare"] for x in s.latencies]
        lo = [x for s in run.rate_samples["orbit"] for x in s.latencies]
        mo = median([s.msg_rate for s in run.rate_samples["orbit"]])
        print(f"\nLatency at {a.rate:g} messages/s into an S={a.rate_size} room (open loop; orbit achieved "
              f"{mo:.0f} msg/s): bare p50 {percentile(lb, .5):.1f} ms p99 {percentile(lb, .99):.1f} ms | "
              f"OrbitChat p50 {percentile(lo, .5):.1f} ms p99 {percentile(lo, .99):.1f} ms")
        rate_line = f" | p99 at {a.rate:g} msg/s, S={a.rate_size}: {percentile(lo, .99):.1f} ms"

    scale_line = ""
    if a.scale_size and ("pair", a.scale_size) in run.samples:
        one, two = run.samples[(solo_key(a), a.scale_size)], run.samples[("pair", a.scale_size)]
        r1, r2 = median([s.rate for s in one]), median([s.rate for s in two])
        c1, c2 = median([s.us_per_delivery for s in one]), median([s.us_per_delivery for s in two])
        u1 = median([s.server_cpu / s.seconds for s in one])
        u2 = median([s.server_cpu / s.seconds for s in two])
        k2 = median([s.client_cpu / s.seconds for s in two])
        l2 = [x for s in two for x in s.latencies]
        n2 = median([s.nats_cpu / s.seconds for s in two])
        k1 = median([s.client_cpu / s.seconds for s in one])
        held = (f", each OrbitChat process held to {run.quotas['orbit'].cores:g} CPU by a cgroup quota "
                f"(nodes of that size)" if run.quotas else "")
        print(f"""
Scale-out at S={a.scale_size}, the sender on the first process{held}:
  1 process (in-process broker)  {r1:>8,.0f} deliveries/s  {c1:>5.1f} us CPU/delivery  server {100 * u1:>3.0f}% of a core, \
client {100 * k1:.0f}%
  2 processes over NATS (split)  {r2:>8,.0f} deliveries/s  {c2:>5.1f} us CPU/delivery (both)  servers {100 * u2:>3.0f}% of a \
core together, nats-server {100 * n2:.0f}%, client {100 * k2:.0f}%, p99 {percentile(l2, .99):.0f} ms
  scaling ratio {r2 / r1:.2f}x (per round: """ + " ".join(f"{t.rate / o.rate:.2f}" for o, t in zip(one, two)) + ")")
        quota = f" at {a.scale_cpu:g} CPU each" if a.scale_cpu else ""
        scale_line = f" | 2 procs/1 proc{quota}: {r2 / r1:.2f}"

    mem_line = ""
    if a.mem_conns:
        print()
        parts = []
        for name in ("orbit", "bare"):
            before, after, n, seconds, setup_cost = run.memory[name]
            per = (after - before) / n
            print(f"Memory per authenticated connection, {name}: {n} websockets (DDP connect, resume-token login, "
                  f"room subscriptions), on the fresh server: RSS {before / 2**20:.1f} -> {after / 2**20:.1f} MiB, "
                  f"{per / 1024:.1f} KiB per connection (opened in {seconds:.0f}s; {setup_cost} per connection)")
            parts.append(f"{name} {per / 1024:.1f} KiB")
        mem_line = f" | memory per connection at {run.memory['orbit'][2]}: " + ", ".join(parts)
    print(f"\nSUMMARY OrbitChat/bare ({a.bare_writes} writes) deliveries/s: " + ", ".join(summary)
          + " | deliveries per server CPU-second: " + ", ".join(efficiency)
          + " | the same counting the database: " + ", ".join(with_db) + rate_line + scale_line + mem_line)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=lambda v: [int(x) for x in v.split(",")], default=[10, 100, 1000],
                   help="subscriber counts S (comma-separated)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    p.add_argument("--duration", type=float, default=1.5, help="seconds measured per scenario per server")
    p.add_argument("--warmup", type=float, default=0.5, help="seconds of warm-up before each measurement")
    p.add_argument("--send", choices=["ddp", "rest"], default="ddp", help="DDP sendMessage or REST chat.sendMessage")
    p.add_argument("--senders", type=int, default=8, help="sender connections")
    p.add_argument("--window", type=int, default=32, help="messages in flight (sent, not yet at every probe)")
    p.add_argument("--in-flight", type=int, default=8000,
                   help="at most this many deliveries in flight: fewer messages in large rooms")
    p.add_argument("--rate", type=float, default=100, help="fixed-rate latency scenario, messages/s (0: skip)")
    p.add_argument("--rate-size", type=int, default=100, help="S of the fixed-rate scenario (one of --sizes)")
    p.add_argument("--mem-conns", type=int, default=1000,
                   help="authenticated connections per server for the memory figure, counting the fan-out "
                        "subscribers (idle ones are added up to this number; 0: no memory figure). The issue's "
                        "figure is at 5000: each login costs the embedded database tens of ms of CPU, so that "
                        "takes minutes")
    p.add_argument("--scale-size", type=int, default=1000, help="S of the two-process scenario (0: skip)")
    p.add_argument("--scale-cpu", type=float, default=0,
                   help="hold each OrbitChat process of the scale-out comparison (the single one while it is "
                        "measured there, and each of the two) to this many CPUs with a cgroup quota: nodes of "
                        "that size on a machine with too few cores for one per process (needs a writable "
                        "cgroup filesystem; 0: no quota)")
    p.add_argument("--bare-writes", choices=["asgi", "direct"], default="asgi",
                   help="how the bare server writes its frames: Hypercorn's ASGI send (the baseline the figures "
                        "are defined against), or one prebuilt frame written straight to each socket as "
                        "OrbitChat does (the cost of the full stack over the same transport)")
    p.add_argument("--keep-logs", metavar="DIR", help="copy the servers' logs to DIR at the end")
    # internal: the server side of the benchmark
    p.add_argument("--serve", choices=["orbit", "bare"], help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--mongo-url", help=argparse.SUPPRESS)
    p.add_argument("--db-name", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    p.add_argument("--broker-url", default="", help=argparse.SUPPRESS)
    p.add_argument("--nats-prefix", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.serve:
        import logging
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        asyncio.run(serve_orbitchat(args) if args.serve == "orbit" else serve_bare(args))
        return
    if any(s < 4 for s in args.sizes) or (args.scale_size and args.scale_size < 6):
        p.error("each S must be at least 4 (3 probes), the scale size at least 6")
    if args.rate and args.rate_size not in args.sizes:
        p.error("--rate-size must be one of --sizes")

    from core.context import random_id
    from core.storage import EmbeddedDatabase

    # SIGTERM to the benchmark unwinds through the finally blocks below like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    common.raise_open_files_limit()
    started = time.monotonic()
    run: Run | None = None
    quotas: dict[str, common.CpuQuota] = {}
    with tempfile.TemporaryDirectory(prefix="orbitchat-fanout-") as tmp:
        db = EmbeddedDatabase(Path(tmp) / "db")
        logs = Path(tmp) / "logs"
        logs.mkdir()
        try:
            db.start()
            db_name = "fanout_" + random_id(8)
            base = ["--mongo-url", db.url, "--db-name", db_name, "--data-dir", tmp]
            # The first OrbitChat process seeds the database (settings, roles, admin); the others then start
            # side by side.
            servers = {"orbit": common.spawn(__file__, "orbit", base, logs)}
            nats_pid = None
            starting = {"bare": common.launch(__file__, "bare", ["--bare-writes", args.bare_writes], logs)}
            if args.scale_size:
                nats, url = start_nats(logs)
                nats_pid = nats.pid
                nats_args = [*base, "--broker-url", url, "--nats-prefix", "fanout" + random_id(6)]
                for name in ("orbit-n1", "orbit-n2"):
                    starting[name] = common.launch(__file__, name, nats_args, logs)
            for name, proc in starting.items():
                servers[name] = common.ready(name, proc, logs)
            if args.scale_size and args.scale_cpu:
                for name in ("orbit", "orbit-n1", "orbit-n2"):
                    quotas[name] = common.CpuQuota(f"orbitchat-bench-{os.getpid()}-{name}", args.scale_cpu)
                    if name != "orbit":          # the single process joins only while measured for scale-out
                        quotas[name].add(servers[name].proc.pid)
            print("servers: " + ", ".join(f"{k} pid {s.proc.pid} :{s.port}" for k, s in servers.items())
                  + f"; embedded db pid {db.proc.pid}; OrbitChat plugins: {', '.join(FULL_STACK)}"
                  + f"; started in {time.monotonic() - started:.0f}s", flush=True)
            run = Run(args, servers, Meter(db.proc.pid, nats_pid), db.url, db_name, quotas=quotas)
            asyncio.run(_bench_and_close(run, logs))
        finally:
            cut = run.log_cut if run is not None and run.log_cut else common.log_sizes(logs)
            common.stop_children()
            db.stop()
            for quota in quotas.values():
                quota.close()
            for line in common.log_summary(logs, cut):
                print("note: " + line)
            if args.keep_logs:
                shutil.copytree(logs, args.keep_logs, dirs_exist_ok=True)
                print(f"server logs copied to {args.keep_logs}")
    print(f"total {time.monotonic() - started:.0f}s")
    if run is not None and run.samples:
        report(run)


async def _bench_and_close(run: Run, logs: Path) -> None:
    try:
        await bench(run)
    finally:
        run.log_cut = common.log_sizes(logs)   # what the servers logged while measured, before clients leave
        for c in run.clients:
            c.abort()
        for aud in run.audiences.values():
            if isinstance(aud.sender, RestSender):
                aud.sender.close()


if __name__ == "__main__":
    main()
