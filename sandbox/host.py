"""Server side of one app process: spawn, confinement check, calls with deadlines, liveness, restarts.

`AppProcess` is one OS process. `AppSandbox` supervises it: a crash or a missed liveness ping restarts it with
backoff, and after repeated failures the app is marked `error_disabled`; the server itself is never affected.
"""
from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import signal
import stat
import sys
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps_sdk.accessors import PERMISSIONS
from sandbox.peer import Peer
from sandbox.protocol import DENIED, RpcError

log = logging.getLogger("orbitchat.sandbox")

AccessorHandler = Callable[[str, str, list, dict], Awaitable[Any]]   # (app_id, "area.method", args, kwargs)
LogSink = Callable[[str, str, str], None]                             # (app_id, level, message)
REQUIRED = ("rlimits", "network", "privileges", "filesystem", "seccomp")


class SandboxError(RuntimeError):
    pass


@dataclass
class Limits:
    memory_mb: int = 256
    cpu_seconds: int = 600
    open_files: int = 64
    file_size_mb: int = 64
    call_timeout: float = 2.0        # wall time for one hook/handler call
    start_timeout: float = 15.0
    ping_interval: float = 5.0
    ping_timeout: float = 2.0
    allow_unconfined: bool = False   # admin setting: run even where a mechanism is missing


def app_uid(app_id: str) -> int:
    """A stable unprivileged uid per app (never shared with the server or, in practice, another app)."""
    return 200_000 + zlib.crc32(app_id.encode()) % 100_000


def _pdeathsig() -> None:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG: the app dies with the server


def _traversable(path: Path) -> bool:
    """Can an unrelated unprivileged uid reach `path`?"""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def _uid_for(app_id: str, *paths: Path) -> int | None:
    """The app's own uid when it can reach the interpreter and its files; None means: stay root but drop
    every capability (the interpreter lives where only root can go, e.g. under /root)."""
    import sysconfig
    needed = [Path(sysconfig.get_paths()["stdlib"]), Path(sys.executable).parent, *paths]
    return app_uid(app_id) if all(_traversable(p) for p in needed) else None


def _own(path: Path, uid: int) -> None:
    """The app's data belongs to the identity the app runs as (and to no one else)."""
    if path.stat().st_uid != uid:
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), uid, uid)
        os.chown(path, uid, uid)
    os.chmod(path, 0o700)


@dataclass
class AppProcess:
    app_id: str
    package_dir: Path
    data_dir: Path
    limits: Limits
    accessors: AccessorHandler
    log_sink: LogSink
    permissions: frozenset[str] = frozenset()   # from the manifest; deny by default
    proc: asyncio.subprocess.Process | None = None
    peer: Peer | None = None
    confinement: dict = field(default_factory=dict)
    _tasks: list = field(default_factory=list)

    async def spawn(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        uid = None
        if os.geteuid() == 0:
            uid = _uid_for(self.app_id, self.package_dir, self.data_dir.parent)
            _own(self.data_dir, uid or 0)
        cfg = {"package_dir": str(self.package_dir), "data_dir": str(self.data_dir),
               "limits": {"memory_mb": self.limits.memory_mb, "cpu_seconds": self.limits.cpu_seconds,
                          "open_files": self.limits.open_files, "file_size_mb": self.limits.file_size_mb,
                          "uid": uid}}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-m", "sandbox.child", json.dumps(cfg),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={"LANG": "C.UTF-8"}, cwd="/", preexec_fn=_pdeathsig, start_new_session=True,
            limit=32 * 1024 * 1024)
        ready = asyncio.get_running_loop().create_future()

        def on_notify(method: str, params: Any) -> None:
            if method == "ready" and not ready.done():
                ready.set_result(params)
            elif method == "log" and isinstance(params, dict):
                self.log_sink(self.app_id, str(params.get("level", "info")), str(params.get("message", "")))

        self.peer = Peer(self.proc.stdout, self.proc.stdin, self._serve_accessor, on_notify)
        self._tasks = [asyncio.create_task(self.peer.run()), asyncio.create_task(self._stderr())]
        closed = asyncio.ensure_future(self.peer.closed.wait())
        done, _ = await asyncio.wait({ready, closed}, timeout=self.limits.start_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        if ready not in done:
            await self.kill()
            why = "exited during start-up (see the app's logs)" if closed in done else "did not start in time"
            raise SandboxError(f"the app process {why}")
        hello = ready.result()
        self.confinement = hello.get("confinement", {})
        missing = [m for m in REQUIRED if not str(self.confinement.get(m, "off")).startswith("on")]
        if missing and not self.limits.allow_unconfined:
            await self.kill()
            raise SandboxError("refusing to run unconfined: " + "; ".join(
                f"{m} {self.confinement.get(m, 'off')}" for m in missing))

    async def _stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while True:
            line = await self.proc.stderr.readline()
            if not line:
                return
            self.log_sink(self.app_id, "info", line.decode("utf-8", "replace").rstrip()[:4000])

    async def _serve_accessor(self, method: str, params: Any) -> Any:
        if not method.startswith("accessor:") or not isinstance(params, dict):
            raise RpcError(DENIED, f"{method} is not an accessor")
        name = method[len("accessor:"):]
        if name not in PERMISSIONS:
            raise RpcError(DENIED, f"unknown accessor {name}")
        needed = PERMISSIONS[name]
        if needed is not None and needed not in self.permissions:
            raise RpcError(DENIED, f"permission {needed} is required for {name} and the app does not have it")
        args, kwargs = params.get("args", []), params.get("kwargs", {})
        if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
            raise RpcError(DENIED, "malformed accessor call")
        return await self.accessors(self.app_id, name, args, kwargs)

    async def call(self, method: str, params: Any = None, timeout: float | None = None) -> Any:
        if self.peer is None or self.peer.closed.is_set():
            raise ConnectionError("app process is not running")
        return await self.peer.request(method, params, timeout or self.limits.call_timeout)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None and not (self.peer and self.peer.closed.is_set())

    async def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await proc.wait()
        for t in self._tasks:
            t.cancel()
        self._tasks = []


class AppSandbox:
    """Keeps one app process running: start, liveness pings, restart with backoff, give up after repeats."""

    MAX_FAILURES = 5
    FAILURE_WINDOW = 120.0

    def __init__(self, process: AppProcess, on_started: Callable[[AppSandbox], Awaitable[None]],
                 on_failed: Callable[[AppSandbox, str], Awaitable[None]]) -> None:
        self.process = process
        self.on_started = on_started      # re-constructs/initialises the app after every (re)start
        self.on_failed = on_failed        # gave up: mark the app error_disabled
        self.failures: list[float] = []
        # Bumped every time a new process is up. A failure is reported with the generation it was seen in,
        # so a crash noticed by both a failed call and the watchdog is one failure and one restart, not two.
        self.generation = 0
        self._watch: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._suspect = False
        self.stopping = False

    async def start(self) -> None:
        await self.process.spawn()
        await self.on_started(self)
        self.generation += 1
        self._watch = asyncio.create_task(self._watchdog())

    async def stop(self) -> None:
        self.stopping = True
        if self._watch is not None and self._watch is not asyncio.current_task():
            self._watch.cancel()
        await self.process.kill()

    async def _watchdog(self) -> None:
        lim = self.process.limits
        while not self.stopping:
            await asyncio.sleep(lim.ping_interval)
            seen = self.generation
            if not await self._responsive(lim.ping_timeout) and not self.stopping:
                await self._recover(seen, force=True)

    async def _responsive(self, timeout: float) -> bool:
        if not self.process.alive:
            return False
        try:
            healthy = await self.process.call("ping", None, timeout) == "pong"
        except (TimeoutError, ConnectionError, RpcError):
            healthy = False
        if healthy:
            self._suspect = False
        return healthy

    async def check_now(self, seen: int | None = None) -> None:
        """Called after the channel broke: restart now if the process is gone (do not wait for the next ping).
        `seen` is the generation the caller was talking to (default: the current one)."""
        seen = self.generation if seen is None else seen
        if not self.stopping and not self.process.alive:
            await self._recover(seen)

    async def probe_now(self, seen: int | None = None) -> None:
        """Called after a call overran its deadline: ping once, restart if the process does not answer."""
        seen = self.generation if seen is None else seen
        self._suspect = True
        if self.stopping or seen != self.generation:
            return
        if not await self._responsive(self.process.limits.ping_timeout):
            await self._recover(seen, force=True)

    async def _recover(self, seen: int | None = None, force: bool = False) -> None:
        async with self._lock:
            if self.stopping or (seen is not None and seen != self.generation):
                return   # already restarted since that failure was seen
            if self.process.alive and not (force or self._suspect):
                return
            self._suspect = False
            await self._restart()

    def mark_suspect(self) -> None:
        """A call overran its deadline: the next check restarts the process unless it answers a ping."""
        self._suspect = True

    async def _restart(self) -> None:
        now = time.monotonic()
        self.failures = [t for t in self.failures if now - t < self.FAILURE_WINDOW] + [now]
        log.warning("app %s is unresponsive or crashed (%d recent failures); restarting",
                    self.process.app_id, len(self.failures))
        await self.process.kill()
        if len(self.failures) >= self.MAX_FAILURES:
            self.stopping = True
            await self.on_failed(self, f"crashed or hung {len(self.failures)} times")
            return
        await asyncio.sleep(min(8.0, 0.25 * 2 ** (len(self.failures) - 1)))
        if self.stopping:
            return
        try:
            await self.process.spawn()
            await self.on_started(self)
            self.generation += 1
        except Exception as exc:
            log.error("restart of app %s failed: %s", self.process.app_id, exc)
            await self.process.kill()
