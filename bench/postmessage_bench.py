"""REST `chat.postMessage` per second through the full stack vs a bare Hypercorn handler doing one raw insert.

    .venv/bin/python bench/postmessage_bench.py [--rounds 4] [--duration 3] [--concurrency 8]

Both servers run in their own processes against one embedded database (in a temp dir): OrbitChat with its
standard plugins (`orbitchat serve`), and a bare ASGI app whose POST handler does one `insert_one` with
pymongo's async client into the same database and answers a small JSON body. The load generator posts from
this process with keep-alive connections; rounds alternate (bare, orbit, then orbit, bare, ...) and medians
are reported, with each server's and the database's CPU time per request read from /proc.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

ADMIN = ("benchadmin", "bench-admin-pw-123")


# -- the bare server (child) --------------------------------------------------------------------------
async def serve_bare(port: int, mongo_url: str, db_name: str) -> None:
    import orjson
    from hypercorn.asyncio import serve
    from pymongo import AsyncMongoClient

    from core.config import Config
    from core.server import hypercorn_config, listening_socket

    coll = AsyncMongoClient(mongo_url)[db_name]["bare_messages"]

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await common.lifespan(receive, send)
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        data = orjson.loads(body or b"{}")
        doc = {"rid": data.get("roomId"), "msg": data.get("text"), "ts": time.time()}
        await coll.insert_one(doc)
        out = orjson.dumps({"message": {"_id": str(doc["_id"]), "msg": doc["msg"]}, "success": True})
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": out})

    sock = listening_socket(port=port)
    real_port = sock.getsockname()[1]
    stop = common.stop_event()
    common.announce(real_port)
    await serve(app, hypercorn_config(Config(port=real_port), sock), shutdown_trigger=stop.wait)


# -- load ------------------------------------------------------------------------------------------------
async def load(url: str, headers: dict, body: dict, duration: float, concurrency: int) -> int:
    import httpx

    done = 0
    deadline = time.monotonic() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                r = await client.post(url, json=body, headers=headers)
                if r.status_code != 200:
                    raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
                done += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def measure(name, url, headers, body, pids, args) -> dict:
    before = {k: common.cpu_seconds(p) for k, p in pids.items()}
    start = time.monotonic()
    n = await load(url, headers, body, args.duration, args.concurrency)
    elapsed = time.monotonic() - start
    cpu = {k: (common.cpu_seconds(p) - before[k]) / max(n, 1) * 1e6 for k, p in pids.items()}
    return {"name": name, "rps": n / elapsed, "cpu_us": cpu}


def start_orbit(tmp: Path, mongo_url: str, db_name: str) -> tuple[subprocess.Popen, int]:
    from core.storage import free_port
    port = free_port()
    env = {**os.environ, "MONGO_URL": mongo_url, "ORBITCHAT_DB": db_name, "ORBITCHAT_ADMIN_USER": ADMIN[0],
           "ORBITCHAT_ADMIN_PASSWORD": ADMIN[1], "ORBITCHAT_BCRYPT_ROUNDS": "4", common.RATE_LIMIT_ENV: "1000000000"}
    log = open(tmp / "orbit.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "serve", "--port", str(port), "--data-dir",
                             str(tmp / "data"), "--lock", str(tmp / "none.lock")], stdout=log, stderr=log, env=env,
                            cwd=Path(__file__).resolve().parent.parent, preexec_fn=common.die_with_parent)
    common.track(proc)
    deadline = time.monotonic() + 90
    while b"listening on" not in (tmp / "orbit.log").read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("OrbitChat did not start:\n" + (tmp / "orbit.log").read_text()[-3000:])
        time.sleep(0.1)
    return proc, port


async def setup_orbit(port: int) -> tuple[dict, str]:
    import httpx
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
        r = await c.post("/api/v1/login", json={"user": ADMIN[0], "password": ADMIN[1]})
        data = r.json()["data"]
        headers = {"X-User-Id": data["userId"], "X-Auth-Token": data["authToken"]}
        r = await c.post("/api/v1/channels.create", json={"name": "bench-post"}, headers=headers)
        return headers, r.json()["channel"]["_id"]


async def main(args: argparse.Namespace) -> None:
    from core.storage import EmbeddedDatabase
    tmp = Path(tempfile.mkdtemp(prefix="orbitchat-postbench-"))
    db = EmbeddedDatabase(tmp / "db")
    db.start()
    try:
        bare = common.spawn(__file__, "bare", ["--mongo-url", db.url, "--db", "bench"], tmp)
        orbit, port = start_orbit(tmp, db.url, "bench")
        headers, rid = await setup_orbit(port)
        body = {"roomId": rid, "text": "hello from the benchmark"}
        pids = {"server": 0, "db": db.proc.pid}
        targets = {"bare": (f"http://127.0.0.1:{bare.port}/", {}, bare.proc.pid),
                   "orbit": (f"http://127.0.0.1:{port}/api/v1/chat.postMessage", headers, orbit.pid)}
        for url, hdrs, _pid in targets.values():   # warm-up
            await load(url, hdrs, body, 0.5, args.concurrency)
        results: dict[str, list[dict]] = {"bare": [], "orbit": []}
        for rnd in range(args.rounds):
            order = ["bare", "orbit"] if rnd % 2 == 0 else ["orbit", "bare"]
            for name in order:
                url, hdrs, pid = targets[name]
                results[name].append(await measure(name, url, hdrs, body, {**pids, "server": pid}, args))
        print_report(results, args)
    finally:
        common.stop_children()
        db.stop()


def print_report(results: dict[str, list[dict]], args: argparse.Namespace) -> None:
    med = {n: {"rps": common.median([r["rps"] for r in rs]),
               "server": common.median([r["cpu_us"]["server"] for r in rs]),
               "db": common.median([r["cpu_us"]["db"] for r in rs])} for n, rs in results.items()}
    print(f"\nchat.postMessage vs bare insert: {args.rounds} rounds x {args.duration}s, "
          f"{args.concurrency} connections (medians)")
    print(f"{'':8}{'req/s':>10}{'server CPU us/req':>20}{'db CPU us/req':>16}")
    for n in ("bare", "orbit"):
        print(f"{n:8}{med[n]['rps']:>10.1f}{med[n]['server']:>20.0f}{med[n]['db']:>16.0f}")
    print(f"ratio orbit/bare: throughput {med['orbit']['rps'] / med['bare']['rps']:.3f}, "
          f"server CPU per request {med['orbit']['server'] / max(med['bare']['server'], 1):.2f}x, "
          f"database CPU per request {med['orbit']['db'] / max(med['bare']['db'], 1):.2f}x")
    print("per round req/s: " + ", ".join(f"{r['name']} {r['rps']:.0f}" for rs in zip(*results.values())
                                          for r in rs))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--serve", choices=["bare"], help=argparse.SUPPRESS)
    p.add_argument("--mongo-url")
    p.add_argument("--db", default="bench")
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    if a.serve:
        common.die_with_parent()
        asyncio.run(serve_bare(a.port, a.mongo_url, a.db))
    else:
        asyncio.run(main(a))
