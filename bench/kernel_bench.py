"""Kernel overhead: OrbitChat versus a bare Hypercorn ASGI app doing the same work, in one run.

    .venv/bin/python bench/kernel_bench.py [--rounds 5] [--duration 1.2] [--warmup 0.4]
                                           [--concurrency 8] [--ws-clients N]

Measures, side by side and interleaved (bare/orbit, then orbit/bare, ... for several rounds; medians):

1. `GET /api/info` requests per second: OrbitChat (create_app + core.server.run, plugins=("settings",),
   embedded database started by this script in a temp dir, rate limit raised so it never refuses) versus a
   plain ASGI callable under Hypercorn returning the same body bytes.
2. DDP ping round trips per second over a websocket, after the connect handshake: one client doing sequential
   pings, and N clients concurrently each doing sequential pings. OrbitChat's `/websocket` versus a plain ASGI
   websocket app that answers connect with connected and ping with pong.

Each server runs in its own process (this file re-invoked with `--serve orbitchat|bare`); the load comes from
this process with httpx (HTTP/1.1 keep-alive, `--concurrency` connections) and `websockets`. Besides
throughput, the server process's CPU time per operation is read from /proc: it is the steadier figure on a
noisy machine and it does not depend on whether the load generator saturates first.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `core` importable from the checkout as well
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RATE_LIMIT_ENV, Server, announce, lifespan, log_summary, stop_children, stop_event
from bench.common import median as _median
from bench.common import spawn as _spawn

PING = '{"msg":"ping"}'
CONNECT = '{"msg":"connect","version":"1","support":["1"]}'


# ================================================================================================
# Servers (child processes)
# ================================================================================================

async def serve_orbitchat(args: argparse.Namespace) -> None:
    from core.app import create_app
    from core.config import Config
    from core.context import random_id
    from core.server import listening_socket, run

    sock = listening_socket(port=args.port)
    port = sock.getsockname()[1]
    env = {**os.environ, RATE_LIMIT_ENV: "1000000000"}
    cfg = Config(port=port, data_dir=Path(args.data_dir), mongo_url=args.mongo_url,
                 db_name="bench_" + random_id(8), plugins=("settings",), env=env)
    app = create_app(cfg)

    @app.before_serving
    async def _ready() -> None:   # registered after the kernel's own: runs once the kernel has started
        announce(port)

    await run(app, cfg, stop_event(), sock)


def bare_app(info_body: bytes) -> Callable:
    """The baseline: a plain ASGI callable, no framework, doing the same visible work as OrbitChat."""
    import orjson

    info_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(info_body)).encode())]
    not_found = b'{"success":false,"error":"Resource not found"}'
    nf_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(not_found)).encode())]
    counter = iter(range(1, 1 << 62))

    async def app(scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            if scope["method"] == "GET" and scope["path"] == "/api/info":
                status, headers, body = 200, info_headers, info_body
            else:
                status, headers, body = 404, nf_headers, not_found
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif kind == "websocket":
            if scope["path"] != "/websocket":
                await send({"type": "websocket.close", "code": 1000})
                return
            await receive()   # websocket.connect
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": '{"server_id":"0"}'})
            while True:
                event = await receive()
                if event["type"] == "websocket.disconnect":
                    return
                data = event.get("text")
                if data is None:
                    continue
                try:
                    msg = orjson.loads(data)
                except orjson.JSONDecodeError:
                    reply = {"msg": "error", "reason": "Bad request"}
                else:
                    what = msg.get("msg") if isinstance(msg, dict) else None
                    if what == "ping":
                        reply = {"msg": "pong", **({"id": msg["id"]} if "id" in msg else {})}
                    elif what == "connect":
                        reply = {"msg": "connected", "session": f"s{next(counter)}"}
                    elif what == "pong":
                        continue
                    else:
                        reply = {"msg": "error", "reason": "Bad request"}
                await send({"type": "websocket.send", "text": orjson.dumps(reply).decode()})
        elif kind == "lifespan":
            await lifespan(receive, send)

    return app


async def serve_bare(args: argparse.Namespace) -> None:
    from hypercorn.asyncio import serve

    from core.config import Config
    from core.server import hypercorn_config, listening_socket

    sock = listening_socket(port=args.port)
    port = sock.getsockname()[1]
    hc = hypercorn_config(Config(port=port), sock)   # the very same Hypercorn settings OrbitChat runs with
    app = bare_app(bytes.fromhex(args.body_hex))
    stop = stop_event()
    announce(port)
    await serve(app, hc, shutdown_trigger=stop.wait)


# ================================================================================================
# Process management (parent)
# ================================================================================================

def spawn(name: str, extra: list[str], log_dir: Path, timeout: float = 60.0) -> Server:
    """Start this file as server `name` (orbitchat or bare) in a child process."""
    return _spawn(__file__, name, extra, log_dir, timeout)


# ================================================================================================
# Load generation (parent)
# ================================================================================================

@dataclass
class Sample:
    ops: int
    seconds: float
    server_cpu: float     # seconds of server CPU spent during the window
    client_cpu: float     # seconds of load-generator CPU spent during the window
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.ops / self.seconds

    @property
    def server_us_per_op(self) -> float:
        return 1e6 * self.server_cpu / max(1, self.ops)


async def _timed(server: Server, workers: list[Callable[[float], Awaitable[tuple[int, int]]]],
                 warmup: float, duration: float) -> Sample:
    """Run every worker until a deadline: first a warm-up window, then the measured one."""
    await asyncio.gather(*(w(time.monotonic() + warmup) for w in workers))
    cpu0, pcpu0, t0 = server.cpu_seconds(), time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(w(time.monotonic() + duration) for w in workers))
    t1, pcpu1, cpu1 = time.perf_counter(), time.process_time(), server.cpu_seconds()
    return Sample(sum(r[0] for r in results), t1 - t0, cpu1 - cpu0, pcpu1 - pcpu0, sum(r[1] for r in results))


async def http_info(server: Server, concurrency: int, warmup: float, duration: float) -> Sample:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:
        async def worker(deadline: float) -> tuple[int, int]:
            ok = bad = 0
            while time.monotonic() < deadline:
                r = await client.get("/api/info")
                if r.status_code == 200:
                    ok += 1
                else:
                    bad += 1
            return ok, bad

        return await _timed(server, [worker] * concurrency, warmup, duration)


async def http_info_raw(server: Server, concurrency: int, warmup: float, duration: float) -> Sample:
    """The same requests over plain keep-alive sockets: a load generator far cheaper than httpx per request,
    so that on a small machine the server, not the client, is what saturates."""
    request = f"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    conns = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(concurrency)]

    def make_worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        async def worker(deadline: float) -> tuple[int, int]:
            ok = bad = 0
            while time.monotonic() < deadline:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                if head.startswith(b"HTTP/1.1 200 "):
                    ok += 1
                else:
                    bad += 1
            return ok, bad
        return worker

    try:
        return await _timed(server, [make_worker(r, w) for r, w in conns], warmup, duration)
    finally:
        for _, w in conns:
            w.close()


async def ddp_open(url: str):
    from websockets.asyncio.client import connect

    ws = await connect(url, compression=None, max_size=None, ping_interval=None)
    await ws.send(CONNECT)
    while True:
        frame = await asyncio.wait_for(ws.recv(), 10)
        if '"connected"' in frame:
            return ws
        if '"failed"' in frame:
            raise RuntimeError(f"DDP connect refused: {frame}")


async def ddp_ping(server: Server, clients: int, warmup: float, duration: float) -> Sample:
    sockets = await asyncio.gather(*(ddp_open(server.ws_url) for _ in range(clients)))
    try:
        def make_worker(ws) -> Callable[[float], Awaitable[tuple[int, int]]]:
            async def worker(deadline: float) -> tuple[int, int]:
                n = 0
                while time.monotonic() < deadline:
                    await ws.send(PING)
                    while '"pong"' not in await ws.recv():   # skip anything else the server sends
                        pass
                    n += 1
                return n, 0
            return worker

        return await _timed(server, [make_worker(ws) for ws in sockets], warmup, duration)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


# ================================================================================================
# Orchestration and report
# ================================================================================================

@dataclass
class Scenario:
    short: str
    label: str
    unit: str
    run: Callable[[Server], Awaitable[Sample]]
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {"bare": [], "orbitchat": []})


async def fetch_info(server: Server) -> tuple[bytes, dict[str, str]]:
    import httpx

    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        for _ in range(100):
            try:
                r = await client.get("/api/info")
                if r.status_code == 200:
                    return r.content, dict(r.headers)
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{server.name}: GET /api/info did not answer 200")


async def measure(args: argparse.Namespace, servers: dict[str, Server],
                  info_headers: dict[str, str]) -> list[Scenario]:
    c, wc = args.concurrency, args.ws_clients or args.concurrency
    w, d = args.warmup, args.duration
    scenarios = [
        Scenario("info/httpx", f"GET /api/info, httpx, {c} conns", "req/s", lambda s: http_info(s, c, w, d)),
        Scenario("info/raw", f"GET /api/info, raw socket, {c} conns", "req/s",
                 lambda s: http_info_raw(s, c, w, d)),
        Scenario("ping/1", "DDP ping, 1 client", "rt/s", lambda s: ddp_ping(s, 1, w, d)),
        Scenario(f"ping/{wc}", f"DDP ping, {wc} clients", "rt/s", lambda s: ddp_ping(s, wc, w, d)),
    ]
    # Sanity: both sides answer the handshake and a ping before anything is measured.
    for srv in servers.values():
        ws = await ddp_open(srv.ws_url)
        await ws.send(PING)
        while '"pong"' not in await asyncio.wait_for(ws.recv(), 10):
            pass
        await ws.close()

    if "x-ratelimit-limit" not in {k.lower() for k in info_headers}:
        print("note: OrbitChat's /api/info reply has no X-RateLimit-* headers: the rate limiter does not run "
              "for this route (it is declared with rate_limit=None).")
    print(f"{args.rounds} rounds x {len(scenarios)} scenarios x 2 servers, warm-up {w}s + {d}s each; "
          f"order alternates every round\n")
    for rnd in range(args.rounds):
        order = ["bare", "orbitchat"] if rnd % 2 == 0 else ["orbitchat", "bare"]
        line = []
        for sc in scenarios:
            for name in order:
                sample = await sc.run(servers[name])
                sc.samples[name].append(sample)
                if sample.errors:
                    print(f"  ! {name} {sc.label}: {sample.errors} non-200 replies")
            b, o = sc.samples["bare"][-1].rate, sc.samples["orbitchat"][-1].rate
            line.append(f"{sc.short} {b:,.0f}/{o:,.0f}")
        print(f"round {rnd + 1}: (bare/orbit) " + " | ".join(line), flush=True)
    return scenarios


def report(scenarios: list[Scenario]) -> None:
    head = (f"{'scenario':35} {'unit':>5} {'bare':>8} {'orbit':>8} {'ratio':>5} | {'server CPU us/op':>16} "
            f"{'':>5} {'':>5} | {'client CPU':>10} | {'orbit/bare per round':<30}")
    sub = (f"{'':35} {'':>5} {'median':>8} {'median':>8} {'o/b':>5} | {'bare':>16} {'orbit':>5} {'x':>5} | "
           f"{'bare orbit':>10} |")
    print("\n" + head + "\n" + sub)
    print("-" * len(head))
    summary = []
    for sc in scenarios:
        bare, orbit = sc.samples["bare"], sc.samples["orbitchat"]
        rb, ro = _median([s.rate for s in bare]), _median([s.rate for s in orbit])
        cb, co = _median([s.server_us_per_op for s in bare]), _median([s.server_us_per_op for s in orbit])
        lb = _median([s.client_cpu / s.seconds for s in bare])
        lo = _median([s.client_cpu / s.seconds for s in orbit])
        rounds = " ".join(f"{o.rate / b.rate:.2f}" for b, o in zip(bare, orbit))
        print(f"{sc.label:35} {sc.unit:>5} {rb:>8,.0f} {ro:>8,.0f} {ro / rb:>5.2f} | {cb:>16,.0f} "
              f"{co:>5,.0f} {co / cb:>5.2f} | {100 * lb:>4.0f}% {100 * lo:>4.0f}% | {rounds}")
        bound = " (client-bound)" if max(lb, lo) >= 0.85 else ""
        summary.append(f"{sc.short} {ro / rb:.2f}{bound}")
    print("\nserver CPU us/op: CPU time of the server process per request / round trip during the window "
          "(from /proc);\nit does not depend on whether the load generator saturates. client CPU: the load "
          "generator's share of one core;\nnear 100% means the client, not the server, bounded that "
          "throughput figure (marked client-bound below).")
    cost = []
    for sc in scenarios:
        cb = _median([s.server_us_per_op for s in sc.samples["bare"]])
        co = _median([s.server_us_per_op for s in sc.samples["orbitchat"]])
        cost.append(f"{sc.short} {co / cb:.2f}")
    print("SUMMARY OrbitChat/bare throughput: " + ", ".join(summary)
          + " | server CPU per op: " + ", ".join(cost))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported")
    p.add_argument("--duration", type=float, default=1.2, help="seconds measured per scenario per server")
    p.add_argument("--warmup", type=float, default=0.4, help="seconds of warm-up before each measurement")
    p.add_argument("--concurrency", type=int, default=8, help="HTTP keep-alive connections")
    p.add_argument("--ws-clients", type=int, default=0,
                   help="concurrent DDP clients (default: --concurrency)")
    # internal: the server side of the benchmark
    p.add_argument("--serve", choices=["orbitchat", "bare"], help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--mongo-url", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    p.add_argument("--body-hex", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.serve:
        import logging
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        asyncio.run(serve_orbitchat(args) if args.serve == "orbitchat" else serve_bare(args))
        return

    from core.storage import EmbeddedDatabase

    # SIGTERM to the benchmark unwinds through the finally blocks below like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="orbitchat-bench-") as tmp:
        db = EmbeddedDatabase(Path(tmp) / "db")
        logs = Path(tmp) / "logs"
        try:
            db.start()
            logs.mkdir()
            orbit = spawn("orbitchat", ["--mongo-url", db.url, "--data-dir", tmp], logs)
            body, headers = asyncio.run(fetch_info(orbit))
            bare = spawn("bare", ["--body-hex", body.hex()], logs)
            bare_body, _ = asyncio.run(fetch_info(bare))
            if bare_body != body:
                raise RuntimeError(f"bodies differ: bare {bare_body!r}, orbitchat {body!r}")
            print(f"OrbitChat pid {orbit.proc.pid} on :{orbit.port} "
                  f"(plugins: settings; embedded db {db.url})")
            print(f"bare ASGI pid {bare.proc.pid} on :{bare.port}; both reply {body.decode()}")
            scenarios = asyncio.run(measure(args, {"bare": bare, "orbitchat": orbit}, headers))
        finally:
            stop_children()
            db.stop()
            for line in log_summary(logs) if logs.exists() else []:
                print("note: " + line)
    print(f"total {time.monotonic() - started:.0f}s")
    report(scenarios)


if __name__ == "__main__":
    main()
