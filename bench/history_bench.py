"""Latest-page history latency in a large room, on the embedded database.

    .venv/bin/python bench/history_bench.py [--sizes 1000,10000,100000] [--reps 20] [--baseline-reps 3]

One OrbitChat server (settings, accounts, authorization, rooms, messaging) runs in this process against an
embedded database started in a temp dir. One channel is created through REST, then filled to each size in
turn with `insert_many` batches (an import: the room's `msgs`/`lm` counters are set as the rooms service
keeps them). At each size it measures, with a warm server:

1. REST `GET /api/v1/channels.history?roomId=…&count=50` (the real route: auth, access check, window scan);
2. DDP `loadHistory(rid, null, 50)` over a logged-in websocket;
3. the window query alone, straight through pymongo (what the server's scan sends, without HTTP, auth and
   access checks);
4. the unbounded baseline: `find({rid}).sort({ts: -1}).limit(50)` straight through pymongo, the query a
   naive implementation would send; the embedded engine reads the whole room before applying the limit.

Medians and 95th percentiles in milliseconds, plus how many documents the window scan read per page.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `core` and `plugins` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import websockets

from core import jsonutil
from core.app import create_app, kernel_of
from core.config import Config
from core.context import random_id
from core.security import hash_token, new_token
from core.server import listening_socket, run
from core.storage import EmbeddedDatabase

PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging")
PAGE = 50
GAP = timedelta(seconds=15)          # 100,000 messages span about 17 days
START = datetime(2024, 1, 1, tzinfo=UTC)
BATCH = 5000


async def start_server(db_url: str, data_dir: Path) -> tuple[Any, asyncio.Event, asyncio.Task, int]:
    sock = listening_socket()
    port = sock.getsockname()[1]
    env = {"OVERWRITE_SETTING_API_Enable_Rate_Limiter": "false", "ORBITCHAT_BCRYPT_ROUNDS": "4"}
    cfg = Config(port=port, mongo_url=db_url, db_name="history_bench", plugins=PLUGINS, env=env,
                 data_dir=data_dir)
    app = create_app(cfg)
    stop, started = asyncio.Event(), asyncio.Event()

    @app.before_serving
    async def _ready() -> None:
        started.set()

    task = asyncio.create_task(run(app, cfg, stop, sock))
    await asyncio.wait_for(started.wait(), 60)
    return kernel_of(app), stop, task, port


async def make_user(db: Any) -> tuple[str, str]:
    uid, token, ts = random_id(), new_token(), datetime.now(UTC)
    await db["users"].insert_one({
        "_id": uid, "username": "bench", "name": "Bench", "type": "user", "active": True, "roles": ["user"],
        "status": "online", "createdAt": ts, "_updatedAt": ts,
        "services": {"resume": {"loginTokens": [{"when": ts, "hashedToken": hash_token(token)}]}}})
    return uid, token


async def seed(db: Any, rid: str, uid: str, have: int, want: int) -> float:
    """Fill the room from `have` to `want` messages with insert_many; returns documents per second."""
    coll = db["rocketchat_message"]
    began = time.perf_counter()
    for low in range(have, want, BATCH):
        docs = [{"_id": random_id(), "rid": rid, "msg": f"message {i}", "ts": START + GAP * i,
                 "u": {"_id": uid, "username": "bench", "name": "Bench"}, "_updatedAt": START + GAP * i,
                 "mentions": [], "channels": []} for i in range(low, min(want, low + BATCH))]
        await coll.insert_many(docs, ordered=False)
    elapsed = time.perf_counter() - began
    await db["rocketchat_room"].update_one({"_id": rid}, {"$set": {
        "ts": START - timedelta(minutes=1), "lm": START + GAP * (want - 1), "msgs": want}})
    return (want - have) / elapsed if elapsed else 0.0


class Ddp:
    """Just enough DDP: connect, resume login, call."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.n = ws, 0

    @classmethod
    async def open(cls, port: int, token: str) -> Ddp:
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/websocket", max_size=None)
        client = cls(ws)
        await ws.send('{"msg":"connect","version":"1","support":["1"]}')
        while (await client.recv()).get("msg") != "connected":
            pass
        reply = await client.call("login", {"resume": token})
        assert "result" in reply, reply
        return client

    async def recv(self) -> dict:
        while True:
            msg = jsonutil.ejson_loads(await self.ws.recv())
            if isinstance(msg, dict) and msg.get("msg") == "ping":
                await self.ws.send('{"msg":"pong"}')
                continue
            return msg

    async def call(self, method: str, *params: Any) -> dict:
        self.n += 1
        mid = str(self.n)
        await self.ws.send(jsonutil.ejson_dumps({"msg": "method", "id": mid, "method": method,
                                                 "params": list(params)}).decode())
        while True:
            msg = await self.recv()
            if msg.get("msg") == "result" and msg.get("id") == mid:
                return msg


async def timed(fn: Any, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        began = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):9.1f} ms   p95 {p95:9.1f} ms   (n={len(ordered)})"


async def measure(kernel: Any, http: httpx.AsyncClient, ddp: Ddp, headers: dict, rid: str, size: int,
                  reps: int, baseline_reps: int) -> None:
    newest = f"message {size - 1}"
    scanner = kernel.pm.get_plugin("messaging").service.queries.scanner

    async def rest() -> None:
        r = await http.get("/api/v1/channels.history", params={"roomId": rid, "count": PAGE}, headers=headers)
        messages = r.json()["messages"]
        assert r.status_code == 200 and len(messages) == PAGE and messages[0]["msg"] == newest, r.text[:200]

    async def load_history() -> None:
        result = (await ddp.call("loadHistory", rid, None, PAGE))["result"]
        assert len(result["messages"]) == PAGE and result["messages"][0]["msg"] == newest

    coll = kernel.db["rocketchat_message"]

    async def unbounded() -> None:
        docs = await coll.find({"rid": rid}).sort("ts", -1).limit(PAGE).to_list(None)
        assert len(docs) == PAGE and docs[0]["msg"] == newest

    async def window() -> None:
        since = START + GAP * (size - 1 - int(PAGE * 1.5))
        docs = await coll.find({"rid": rid, "ts": {"$gte": since}}).sort("ts", -1).limit(PAGE).to_list(None)
        assert len(docs) == PAGE and docs[0]["msg"] == newest

    await rest()
    await load_history()   # warm both paths
    windows, read = scanner.windows, scanner.read
    rest_ms = await timed(rest, reps)
    per_page = ((scanner.windows - windows) / reps, (scanner.read - read) / reps)
    ddp_ms = await timed(load_history, reps)
    window_ms = await timed(window, reps)
    base_ms = await timed(unbounded, baseline_reps)
    print(f"\n{size:,} messages in the room", flush=True)
    print(f"  REST channels.history (count=50)   {summary(rest_ms)}")
    print(f"  DDP  loadHistory (limit 50)        {summary(ddp_ms)}")
    print(f"  the same ts window, straight query {summary(window_ms)}")
    print(f"  unbounded find().sort().limit(50)  {summary(base_ms)}")
    print(f"  window scan per page: {per_page[0]:.1f} queries, {per_page[1]:.0f} documents read; "
          f"unbounded / REST median = {statistics.median(base_ms) / statistics.median(rest_ms):.0f}x", flush=True)


async def main(args: argparse.Namespace) -> None:
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="history-bench-") as tmp:
        db = EmbeddedDatabase(Path(tmp) / "db")
        db.start()
        try:
            kernel, stop, task, port = await start_server(db.url, Path(tmp))
            try:
                await run_sizes(kernel, port, sizes, args)
            finally:
                stop.set()
                await asyncio.wait_for(task, 60)
        finally:
            db.stop()


async def run_sizes(kernel: Any, port: int, sizes: list[int], args: argparse.Namespace) -> None:
    uid, token = await make_user(kernel.db)
    headers = {"X-User-Id": uid, "X-Auth-Token": token}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as http:
        r = await http.post("/api/v1/channels.create", json={"name": "big-room"}, headers=headers)
        assert r.status_code == 200, r.text
        rid = r.json()["channel"]["_id"]
        await kernel.db["rocketchat_message"].delete_many({"rid": rid})   # the creation's system messages
        have = 0
        for size in sizes:
            rate = await seed(kernel.db, rid, uid, have, size)
            print(f"seeded {size - have:,} messages with insert_many ({BATCH} per batch): {rate:,.0f} docs/s",
                  flush=True)
            have = size
            # A fresh socket per size: a long seed would leave an idle one to the server's heartbeat.
            ddp = await Ddp.open(port, token)
            try:
                await measure(kernel, http, ddp, headers, rid, size, args.reps, args.baseline_reps)
            finally:
                await ddp.ws.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--baseline-reps", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
