"""Apps: what sandboxed apps add to sending a message, and how long an install takes, in one run.

    .venv/bin/python bench/apps_bench.py [--messages 100] [--rounds 10] [--apps 5] [--hook-calls 3000] [--hooks-only]

1. REST end to end. One OrbitChat server (settings, accounts, authorization, rooms, messaging, apps_engine;
   embedded database in a temp dir) runs in its own process (this file re-invoked with `--serve`). Five apps
   implementing `pre_message_sent_prevent` (answering "no objection", so every message goes through every app)
   are installed through `POST /api/apps`; the time from upload to the answer (the app enabled) is recorded.
   Then `chat.sendMessage` latency is sampled sequentially with 0, 1 and 5 apps enabled (switched with
   `POST /api/apps/:id/status`), phases interleaved over rounds (0,1,5 then 5,1,0, ...) and samples pooled, so
   drift on a shared machine hits every phase alike (short rounds matter: with 3 long rounds the added p50 swung
   by tens of ms with other work on the machine). Added latency = p50(k apps) - p50(0 apps). CPU per message is
   read from /proc for the server, its app processes and the embedded database.
2. The hook call alone, in this process: `HookRunner.first_deny("pre_message_sent_prevent")` over a plugin
   manager holding 0, 1 or 5 app proxies (each a confined app process), the RPC without HTTP or database; the
   apps asked one after the other, and through the engine's prevent fan-out (all asked at once, first refusal
   in order wins) which is what the server does.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `core` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

ADMIN = ("benchadmin", "bench-admin-pw")
PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging", "apps_engine")
APP_SOURCE = '''"""Benchmark app: looks at every message, objects to none."""
from apps_sdk import App


class BenchApp(App):
    async def pre_message_sent_prevent(self, message, room, ctx):
        return "blocked-by-bench" in (message.get("msg") or "")
'''


def bench_zip(n: int) -> bytes:
    manifest = {"id": f"bench-app-{n}", "name": f"Bench App {n}", "version": "1.0.0", "requiredApiVersion": "^1.0.0",
                "author": {"name": "bench"}, "classFile": "app.py", "permissions": [],
                "implements": ["pre_message_sent_prevent"]}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("app.json", json.dumps(manifest))
        zf.writestr("app.py", APP_SOURCE)
    return buf.getvalue()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def cpu_by_role(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server process, its app processes and the embedded database."""
    totals = {"server": 0.0, "apps": 0.0, "db": 0.0}
    stack = [(server_pid, "server")]
    while stack:
        pid, role = stack.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if pid != server_pid:
            role = "apps" if b"sandbox.child" in cmd else "db"
        totals[role] += (int(fields[11]) + int(fields[12])) / CLK_TCK
        stack.extend((c, role) for c in _children(pid))
    return totals


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


# -- server process ----------------------------------------------------------------------------------------

async def serve(args: argparse.Namespace) -> None:
    from core.app import create_app
    from core.config import Config
    from core.server import listening_socket, run

    sock = listening_socket()
    port = sock.getsockname()[1]
    env = {**os.environ, "OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default": "1000000000",
           "ORBITCHAT_ADMIN_USER": ADMIN[0], "ORBITCHAT_ADMIN_PASSWORD": ADMIN[1], "ORBITCHAT_BCRYPT_ROUNDS": "4"}
    cfg = Config(port=port, data_dir=Path(args.data_dir), plugins=PLUGINS, env=env,
                 lock_path=Path(args.data_dir) / "plugin.lock")
    app = create_app(cfg)
    stop = common.stop_event()

    @app.before_serving
    async def _ready() -> None:
        common.announce(port)

    await run(app, cfg, stop, sock)


def start_server(data_dir: str, log_path: Path) -> tuple[subprocess.Popen, int]:
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--data-dir", data_dir], stdout=subprocess.PIPE,
                            stderr=log, preexec_fn=common.die_with_parent)
    deadline = time.monotonic() + 90
    line = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(b"READY"):
                return proc, int(line.split()[1])
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"server did not start; see {log_path}")


# -- 1. REST end to end ------------------------------------------------------------------------------------
async def rest_phase(port: int, server_pid: int, args: argparse.Namespace) -> dict:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        login = (await http.post("/api/v1/login", json={"user": ADMIN[0], "password": ADMIN[1]})).json()
        headers = {"X-User-Id": login["data"]["userId"], "X-Auth-Token": login["data"]["authToken"]}
        room = (await http.post("/api/v1/channels.create", json={"name": "bench-room"}, headers=headers)).json()
        rid = room["channel"]["_id"]

        installs = []
        for n in range(args.apps):
            started = time.perf_counter()
            r = await http.post("/api/apps", files={"app": ("app.zip", bench_zip(n), "application/zip")},
                                headers=headers)
            installs.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 200 and r.json()["app"]["status"] == "manually_enabled", r.text
        blocked = await http.post("/api/v1/chat.sendMessage", headers=headers,
                                  json={"message": {"rid": rid, "msg": "blocked-by-bench"}})
        assert blocked.status_code == 400, "the bench apps are not in the send path"

        enabled = set(range(args.apps))

        async def set_enabled(k: int) -> None:
            for n in range(args.apps):
                want = n < k
                if want != (n in enabled):
                    status = "manually_enabled" if want else "manually_disabled"
                    r = await http.post(f"/api/apps/bench-app-{n}/status", json={"status": status}, headers=headers)
                    assert r.json()["status"] == status, r.text
                    (enabled.add if want else enabled.discard)(n)

        async def sample(count: int) -> list[float]:
            out = []
            for i in range(count):
                started = time.perf_counter()
                r = await http.post("/api/v1/chat.sendMessage", headers=headers,
                                    json={"message": {"rid": rid, "msg": f"message {i}"}})
                out.append((time.perf_counter() - started) * 1000)
                assert r.status_code == 200, r.text
            return out

        levels = sorted({0, 1, args.apps})
        samples: dict[int, list[float]] = {k: [] for k in levels}
        cpu: dict[int, dict[str, float]] = {k: {"server": 0.0, "apps": 0.0, "db": 0.0} for k in levels}
        for rnd in range(args.rounds):
            for k in (levels if rnd % 2 == 0 else list(reversed(levels))):
                await set_enabled(k)
                await sample(20)                       # warm-up after a switch
                before = cpu_by_role(server_pid)
                samples[k].extend(await sample(args.messages))
                after = cpu_by_role(server_pid)
                for role in after:
                    cpu[k][role] += after[role] - before[role]
        examples = await install_examples(http, headers)
        return {"installs": installs, "examples": examples, "samples": samples, "cpu": cpu}


async def install_examples(http: Any, headers: dict) -> dict[str, float]:
    """Install-to-enabled time of each app under examples/apps/ (packaged as `orbitchat app package` does)."""
    from apps_sdk.packaging import build

    out: dict[str, float] = {}
    for app_dir in sorted((Path(__file__).resolve().parent.parent / "examples" / "apps").iterdir()):
        if not (app_dir / "app.json").exists():
            continue
        data = build(app_dir).data
        started = time.perf_counter()
        r = await http.post("/api/apps", files={"app": ("app.zip", data, "application/zip")}, headers=headers)
        out[app_dir.name] = (time.perf_counter() - started) * 1000
        assert r.status_code == 200 and r.json()["app"]["status"] in ("manually_enabled", "auto_enabled"), r.text
    return out


# -- 2. the hook call alone ----------------------------------------------------------------------------------
class _BenchApp:
    """What the engine's prevent fan-out needs of a running app."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.app_id = sandbox.process.app_id
        self.hooks = ["pre_message_sent_prevent"]

    async def call_hook(self, hook: str, kwargs: dict):
        return await self.sandbox.process.call("hook:" + hook, kwargs)


async def _start_sandbox(root: Path, n: int):
    from apps_sdk import manifest as manifest_mod
    from sandbox.host import AppProcess, AppSandbox, Limits

    package = root / "1.0.0"
    package.mkdir(parents=True)
    (package / "app.py").write_text(APP_SOURCE)
    manifest = manifest_mod.validate(json.loads(zipfile.ZipFile(io.BytesIO(bench_zip(n))).read("app.json")))

    async def no_accessors(*_a):
        return None

    async def started(sb) -> None:
        await sb.process.call("app:construct", {"manifest": manifest})
        await sb.process.call("app:initialize")

    async def failed(sb, why: str) -> None:
        return None

    sb = AppSandbox(AppProcess(f"bench-app-{n}", package, root / "data", Limits(), no_accessors, lambda *a: None),
                    started, failed)
    await sb.start()
    return sb


async def hook_phase(args: argparse.Namespace) -> dict[str, dict[int, list[float]]]:
    """first_deny over k proxies: asked one after the other, and through the engine's prevent fan-out."""
    from core.hooks import HookRunner
    from core.plugins import new_plugin_manager
    from plugins.apps_engine.fanout import PreventFanOut
    from sandbox.proxy import build_proxy

    message = {"_id": "m1", "rid": "r1", "msg": "hello", "u": {"_id": "u1", "username": "alice"},
               "ts": datetime.now(UTC)}
    room = {"_id": "r1", "t": "c", "name": "bench", "msgs": 10}
    out: dict[str, dict[int, list[float]]] = {"sequential": {}, "fan-out": {}}
    with tempfile.TemporaryDirectory(prefix="apps-bench-hook-") as tmp:
        apps = [_BenchApp(await _start_sandbox(Path(tmp) / f"bench-app-{n}", n)) for n in range(args.apps)]
        try:
            for k in sorted({0, 1, args.apps}):
                runners = {}
                for mode in out:
                    pm = new_plugin_manager()
                    spec = {"pre_message_sent_prevent": list(pm.hook.pre_message_sent_prevent.spec.argnames)}
                    fanout = PreventFanOut()
                    fanout.order = apps[:k]
                    for i, app in reversed(list(enumerate(apps[:k]))):
                        call = app.call_hook if mode == "sequential" else _via(fanout, app)
                        pm.register(build_proxy(app.app_id, app.hooks, spec, call), name=f"app:{i}")
                    runners[mode] = HookRunner(pm)
                    out[mode][k] = []
                chunk = max(1, args.hook_calls // 10)
                for rnd in range(11):                   # chunks alternate between the modes; the first warms up
                    for mode, runner in (runners.items() if rnd % 2 else reversed(runners.items())):
                        times = []
                        for _ in range(chunk):
                            started = time.perf_counter()
                            await runner.first_deny("pre_message_sent_prevent", message=message, room=room,
                                                    ctx=None)
                            times.append((time.perf_counter() - started) * 1000)
                        if rnd:
                            out[mode][k].extend(times)
        finally:
            for app in apps:
                await app.sandbox.stop()
    return out


def _via(fanout, app):
    async def call(hook: str, kwargs: dict):
        return await fanout.call(app, hook, kwargs)
    return call


def report(rest: dict | None, hooks: dict[str, dict[int, list[float]]], args: argparse.Namespace) -> None:
    with open("/proc/loadavg") as f:
        print(f"\nload average at the end: {f.read().split()[0]} ({os.cpu_count()} cores, shared with other work)")
    if rest is not None:
        report_rest(rest, args)
    print(f"\nHook call alone (first_deny over k app proxies, {args.hook_calls} calls per level):")
    print(f"  {'apps':>4}  {'mode':>10}  {'p50 ms':>8}  {'p99 ms':>8}  {'per app p50':>12}")
    for mode, levels in hooks.items():
        base_h = pct(levels[0], 0.5)
        for k, values in levels.items():
            p50, p99 = pct(values, 0.5), pct(values, 0.99)
            per_app = f"{(p50 - base_h) / k:.3f}" if k else "-"
            print(f"  {k:>4}  {mode:>10}  {p50:8.3f}  {p99:8.3f}  {per_app:>12}")


def report_rest(rest: dict, args: argparse.Namespace) -> None:
    installs = rest["installs"]
    print(f"\nInstall to enabled (POST /api/apps, {len(installs)} apps): "
          f"median {statistics.median(installs):.0f} ms, max {max(installs):.0f} ms "
          f"(first {installs[0]:.0f} ms)")
    examples = rest.get("examples") or {}
    if examples:
        print("Install to enabled, example apps: " + ", ".join(f"{k} {v:.0f} ms" for k, v in examples.items()))
    samples = rest["samples"]
    base = pct(samples[0], 0.5)
    print(f"\nchat.sendMessage over REST, sequential, {len(samples[0])} samples per level "
          f"({args.rounds} interleaved rounds):")
    print(f"  {'apps':>4}  {'p50 ms':>8}  {'p99 ms':>8}  {'added p50':>10}  {'per app':>8}   CPU ms per message: "
          "server  apps  db")
    for k, values in samples.items():
        p50, p99 = pct(values, 0.5), pct(values, 0.99)
        added = p50 - base
        per_app = f"{added / k:.3f}" if k else "-"
        c = {role: rest["cpu"][k][role] * 1000 / len(values) for role in rest["cpu"][k]}
        print(f"  {k:>4}  {p50:8.3f}  {p99:8.3f}  {added:10.3f}  {per_app:>8}   "
              f"{c['server']:>25.2f} {c['apps']:5.2f} {c['db']:4.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--messages", type=int, default=100, help="sends per level per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--hook-calls", type=int, default=3000)
    parser.add_argument("--hooks-only", action="store_true", help="skip the REST part")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args))
        return
    rest = None
    with tempfile.TemporaryDirectory(prefix="apps-bench-") as tmp:
        if args.hooks_only:
            tmp = None
        proc, port = start_server(tmp, Path(tmp) / "server.log") if tmp else (None, 0)
        try:
            if proc is not None:
                rest = asyncio.run(rest_phase(port, proc.pid, args))
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    hooks = asyncio.run(hook_phase(args))
    report(rest, hooks, args)


if __name__ == "__main__":
    main()
