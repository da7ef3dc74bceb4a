"""Accounts: password logins per second and the cost of resume-token authentication on REST, in one run.

    .venv/bin/python bench/accounts_bench.py [--rounds 3] [--duration 2] [--concurrency 8] [--bcrypt-rounds 10]

One OrbitChat server (settings, accounts, authorization; embedded database in a temp dir) runs in its own
process (this file re-invoked with `--serve`). From this process, over plain keep-alive sockets (a load
generator much cheaper per request than an HTTP library, so the server is what saturates):

1. `GET /api/info` unauthenticated: the kernel's baseline request.
2. `GET /api/v1/me` with `X-User-Id` / `X-Auth-Token`: the same path plus token authentication (hash the
   token, look the user up by id and hashed token, check expiry and `active`) plus the `me` document.
3. `POST /api/v1/login` with username and password: bcrypt at the production cost (10) by default.

Phases are interleaved for several rounds (info, me, login; then rotated) and the median reported, with the
server's CPU time per request (read from /proc, the embedded database process counted separately). Ratios
are taken within the run, so they hold on a noisy shared machine where absolute rates do not.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `core` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
ADMIN = ("benchadmin", "bench-admin-pw")
LOGIN_USER = ("loginbench", "login-bench-pw")
ME_USER = ("mebench", "me-bench-pw")


# -- server process ----------------------------------------------------------------------------------------

async def serve(args: argparse.Namespace) -> None:
    from core.app import create_app
    from core.config import Config
    from core.server import listening_socket, run

    sock = listening_socket()
    port = sock.getsockname()[1]
    env = {**os.environ, "OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default": "1000000000",
           "ORBITCHAT_ADMIN_USER": ADMIN[0], "ORBITCHAT_ADMIN_PASSWORD": ADMIN[1],
           "ORBITCHAT_BCRYPT_ROUNDS": str(args.bcrypt_rounds)}
    cfg = Config(port=port, data_dir=Path(args.data_dir), plugins=("settings", "accounts", "authorization"),
                 env=env)
    app = create_app(cfg)
    stop = common.stop_event()

    @app.before_serving
    async def _ready() -> None:
        common.announce(port)   # the admin line and later output go to the log

    await run(app, cfg, stop, sock)


@dataclass
class Server:
    proc: subprocess.Popen
    port: int

    def _cpu(self, pid: int) -> float:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLK_TCK
        except OSError:
            return 0.0

    def children(self) -> list[int]:
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def cpu(self) -> tuple[float, float]:
        """(server process CPU seconds, embedded database process CPU seconds)."""
        return self._cpu(self.proc.pid), sum(self._cpu(p) for p in self.children())


def spawn(data_dir: str, bcrypt_rounds: int, log: Path) -> Server:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", "--data-dir", data_dir,
           "--bcrypt-rounds", str(bcrypt_rounds)]
    with open(log, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                preexec_fn=common.die_with_parent, close_fds=True)  # noqa: PLW1509
    deadline, buf = time.monotonic() + 60, b""
    while True:
        for line in buf.split(b"\n")[:-1]:
            if line.startswith(b"READY "):
                proc.stdout.close()
                return Server(proc, int(line.split()[1]))
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("server did not start:\n" + log.read_text(errors="replace")[-3000:])
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            buf += os.read(proc.stdout.fileno(), 4096)


# -- load ----------------------------------------------------------------------------------------------------
def request(method: str, path: str, port: int, headers: dict[str, str] | None = None,
            body: dict | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length)
    return int(head.split(b" ", 2)[1]), body


@dataclass
class Sample:
    ok: int
    errors: int
    seconds: float
    server_cpu: float
    db_cpu: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def us_per_op(self, cpu: float) -> float:
        return 1e6 * cpu / max(1, self.ok)


async def measure(server: Server, raw: bytes, concurrency: int, warmup: float, duration: float) -> Sample:
    conns = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(concurrency)]

    async def worker(reader, writer, deadline: float) -> tuple[int, int]:
        ok = bad = 0
        while time.monotonic() < deadline:
            status, _ = await roundtrip(reader, writer, raw)
            ok, bad = (ok + 1, bad) if status == 200 else (ok, bad + 1)
        return ok, bad

    try:
        await asyncio.gather(*(worker(r, w, time.monotonic() + warmup) for r, w in conns))
        (cpu0, db0), t0 = server.cpu(), time.perf_counter()
        results = await asyncio.gather(*(worker(r, w, time.monotonic() + duration) for r, w in conns))
        t1, (cpu1, db1) = time.perf_counter(), server.cpu()
    finally:
        for _, w in conns:
            w.close()
    return Sample(sum(r[0] for r in results), sum(r[1] for r in results), t1 - t0, cpu1 - cpu0, db1 - db0)


async def call(port: int, method: str, path: str, headers: dict | None = None, body: dict | None = None) -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        status, data = await roundtrip(reader, writer, request(method, path, port, headers, body))
    finally:
        writer.close()
    if status != 200:
        raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
    return json.loads(data)


async def login(port: int, user: tuple[str, str]) -> dict[str, str]:
    data = (await call(port, "POST", "/api/v1/login", body={"username": user[0], "password": user[1]}))["data"]
    return {"X-User-Id": data["userId"], "X-Auth-Token": data["authToken"]}


async def prepare(port: int) -> dict[str, bytes]:
    admin = await login(port, ADMIN)
    for name, pw in (LOGIN_USER, ME_USER):
        await call(port, "POST", "/api/v1/users.create", admin,
                   {"username": name, "password": pw, "name": name, "email": f"{name}@example.org"})
    me_headers = await login(port, ME_USER)
    return {
        "info": request("GET", "/api/info", port),
        "me": request("GET", "/api/v1/me", port, me_headers),
        "login": request("POST", "/api/v1/login", port, body={"username": LOGIN_USER[0],
                                                                "password": LOGIN_USER[1]}),
    }


async def bench(args: argparse.Namespace, server: Server) -> dict[str, list[Sample]]:
    requests = await prepare(server.port)
    order = ["info", "me", "login"]
    samples: dict[str, list[Sample]] = {k: [] for k in order}
    for i in range(args.rounds):
        for name in order[i % 3:] + order[:i % 3]:
            conc = args.login_concurrency if name == "login" else args.concurrency
            duration = args.duration * (2 if name == "login" else 1)
            samples[name].append(await measure(server, requests[name], conc, args.warmup, duration))
    return samples


def report(args: argparse.Namespace, samples: dict[str, list[Sample]]) -> None:
    def med(name: str, f) -> float:
        return statistics.median(f(s) for s in samples[name])

    rate = {k: med(k, lambda s: s.rate) for k in samples}
    cpu = {k: med(k, lambda s: s.us_per_op(s.server_cpu)) for k in samples}
    db = {k: med(k, lambda s: s.us_per_op(s.db_cpu)) for k in samples}
    errors = {k: sum(s.errors for s in samples[k]) for k in samples}
    print(f"accounts bench: {args.rounds} rounds, {args.duration:.1f}s windows (login {2 * args.duration:.1f}s), "
          f"concurrency {args.concurrency} (login {args.login_concurrency}), bcrypt cost {args.bcrypt_rounds}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'':24}{'req/s':>10}{'server CPU/req':>17}{'db CPU/req':>13}{'errors':>8}")
    labels = {"info": "GET /api/info (anon)", "me": "GET /api/v1/me (token)", "login": "POST /api/v1/login"}
    for k in ("info", "me", "login"):
        print(f"{labels[k]:24}{rate[k]:>10.1f}{cpu[k]:>14.0f} us{db[k]:>10.0f} us{errors[k]:>8}")
    print(f"ratio me/info throughput:      {rate['me'] / rate['info']:.3f}  "
          f"(token auth + me costs {cpu['me'] - cpu['info']:.0f} us server CPU and "
          f"{db['me'] - db['info']:.0f} us db CPU per request over info)")
    print(f"ratio login/info throughput:   {rate['login'] / rate['info']:.4f}  "
          f"({rate['login']:.1f} logins/s; {cpu['login'] / 1000:.1f} ms server CPU per login, mostly bcrypt)")
    print("per round (info, me, login req/s): " + "; ".join(
        f"{samples['info'][i].rate:.0f}, {samples['me'][i].rate:.0f}, {samples['login'][i].rate:.1f}"
        for i in range(args.rounds)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=2.0)
    p.add_argument("--warmup", type=float, default=0.3)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--login-concurrency", type=int, default=4)
    p.add_argument("--bcrypt-rounds", type=int, default=10)
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", default="", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        asyncio.run(serve(args))
        return 0
    with tempfile.TemporaryDirectory(prefix="orbitchat-accounts-bench-") as tmp:
        log = Path(tmp) / "server.log"
        server = spawn(str(Path(tmp) / "data"), args.bcrypt_rounds, log)
        try:
            samples = asyncio.run(bench(args, server))
        finally:
            server.proc.terminate()
            try:
                server.proc.wait(30)
            except subprocess.TimeoutExpired:
                server.proc.kill()
        report(args, samples)
        errors = [ln for ln in log.read_text(errors="replace").splitlines() if ln.startswith(("ERROR", "Trace"))]
        if errors:
            print(f"server log: {len(errors)} error lines, first: {errors[0][:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
