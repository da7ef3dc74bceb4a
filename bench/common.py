"""Helpers shared by the benchmarks: server child processes, CPU and memory from /proc, logs, medians.

A benchmark re-invokes its own file with `--serve <kind>` to run each server in a separate process; the
child prints `READY <port>` once it listens (`announce`) and the parent (`spawn`) waits for that line. Every
child gets PR_SET_PDEATHSIG, and `stop_children` ends them in order, so no server outlives the benchmark.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import resource
import select
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RATE_LIMIT_ENV = "OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# -- child side -----------------------------------------------------------------------------------------
def die_with_parent() -> None:
    """preexec_fn: SIGTERM this child if the benchmark process dies for any reason; its own process group,
    so a Ctrl-C reaches only the benchmark, which stops its children in order (servers before the services
    they use)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    os.setpgrp()


def announce(port: int) -> None:
    """Tell the parent we are ready, then send any later stdout to stderr so the pipe never fills."""
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())


def stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (the server's shutdown trigger)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def lifespan(receive: Any, send: Any) -> None:
    """The ASGI lifespan protocol for the bare servers: nothing to start or stop."""
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


# -- /proc ----------------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    """Resident set size of a process."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def raise_open_files_limit() -> int:
    """Raise this process's (and so its children's) soft limit on open files to the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- CPU quotas -----------------------------------------------------------------------------------------
class CpuQuota:
    """A control group that holds the processes put in it to `cores` CPUs in total (cgroup v2 `cpu.max`, or
    v1 `cpu.cfs_quota_us`): a node of that size, on a machine with too few cores to give each server its
    own. Needs a writable cgroup filesystem (root, or a delegated subtree); `close` removes the group."""

    PERIOD_US = 100_000

    def __init__(self, name: str, cores: float) -> None:
        quota = max(1000, int(cores * self.PERIOD_US))
        v2 = Path("/sys/fs/cgroup/cgroup.controllers")
        if v2.exists():
            own = Path("/proc/self/cgroup").read_text().strip().split("::", 1)[1]
            self.parent = Path("/sys/fs/cgroup") / own.lstrip("/")
            self.path = self.parent / name
            self.path.mkdir()
            (self.path / "cpu.max").write_text(f"{quota} {self.PERIOD_US}")
        else:
            self.parent = Path("/sys/fs/cgroup/cpu")
            self.path = self.parent / name
            self.path.mkdir()
            (self.path / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
        self.cores = quota / self.PERIOD_US

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def release(self, pid: int) -> None:
        """Back to the parent group: no quota."""
        (self.parent / "cgroup.procs").write_text(str(pid))

    def throttled_seconds(self) -> float:
        """Time the group's processes waited for quota so far."""
        for line in (self.path / "cpu.stat").read_text().splitlines():
            key, value = line.split()
            if key == "throttled_usec":
                return int(value) / 1e6
            if key == "throttled_time":
                return int(value) / 1e9
        return 0.0

    def close(self) -> None:
        for pid in (self.path / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                self.release(int(pid))
        with contextlib.suppress(OSError):
            self.path.rmdir()


# -- parent side ----------------------------------------------------------------------------------------
@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/websocket"

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.proc.pid)

    def rss_bytes(self) -> int:
        return rss_bytes(self.proc.pid)


_children: list[tuple[subprocess.Popen, bool]] = []   # (process, stop it after the others)


def launch(script: str | Path, name: str, extra: list[str], log_dir: Path) -> subprocess.Popen:
    """Start `script --serve <kind> --port 0 <extra>` (kind: `name` up to a first `-`), its stderr going to
    `<log_dir>/<name>.log`; `ready` then waits for it. Several servers can start side by side."""
    kind = name.split("-", 1)[0]
    cmd = [sys.executable, str(Path(script).resolve()), "--serve", kind, "--port", "0", *extra]
    # Append mode: the child and `ready` (copying start-up lines) both write to the log.
    with open(log_dir / f"{name}.log", "ab") as log:   # preexec_fn is safe: no threads run here
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                preexec_fn=die_with_parent, close_fds=True)  # noqa: PLW1509
    _children.append((proc, False))
    return proc


def ready(name: str, proc: subprocess.Popen, log_dir: Path, timeout: float = 60.0) -> Server:
    return _wait_ready(name, proc, log_dir, timeout)


def spawn(script: str | Path, name: str, extra: list[str], log_dir: Path, timeout: float = 60.0) -> Server:
    """`launch` and wait until the server listens."""
    return _wait_ready(name, launch(script, name, extra, log_dir), log_dir, timeout)


def _wait_ready(name: str, proc: subprocess.Popen, log_dir: Path, timeout: float) -> Server:
    """Read the child's stdout until its `READY <port>` line (earlier lines, e.g. start-up notices from
    plugins, are copied to its log)."""
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        lines = data.split(b"\n")
        ready = [ln for ln in lines[:-1] if ln.startswith(b"READY ")]
        if ready:
            break
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited with code {proc.returncode} during start-up:\n"
                               + tail(log_dir / f"{name}.log"))
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} server did not start within {timeout:.0f}s")
        readable, _, _ = select.select([proc.stdout], [], [], 0.2)
        if readable:
            data += os.read(proc.stdout.fileno(), 4096)
    proc.stdout.close()
    others = [ln for ln in lines if ln and not ln.startswith(b"READY ")]
    if others:
        with open(log_dir / f"{name}.log", "ab") as log:
            log.write(b"\n".join(others) + b"\n")
    return Server(name, proc, int(ready[0].split()[1]))


def track(proc: subprocess.Popen, last: bool = False) -> subprocess.Popen:
    """Have `stop_children` stop a child started some other way; `last`: after every other child (a
    service the servers use, such as a message broker)."""
    _children.append((proc, last))
    return proc


def stop_children() -> None:
    """SIGTERM the servers and wait for them (SIGKILL after 10 s), then the same for `last` children."""
    for wave in (False, True):
        procs = [p for p, last in reversed(_children) if last == wave]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    _children.clear()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def log_sizes(log_dir: Path) -> dict[str, int]:
    """Bytes in each server log now (see `log_summary`)."""
    return {p.stem: p.stat().st_size for p in log_dir.glob("*.log")}


def log_summary(log_dir: Path, upto: dict[str, int] | None = None) -> list[str]:
    """One line per server that wrote to stderr: how much, and the distinct first lines of its records.
    With `upto` (from `log_sizes`), only what was written before that point is summarised, and what came
    after (shutdown with clients still connected) is counted separately."""
    out = []
    for path in sorted(log_dir.glob("*.log")):
        raw = path.read_bytes()
        cut = len(raw) if upto is None else upto.get(path.stem, len(raw))
        text = raw[:cut].decode(errors="replace").splitlines()
        later = raw[cut:].decode(errors="replace").splitlines()
        heads = [ln for ln in text if ln.startswith(("CRITICAL", "ERROR", "WARNING", "Traceback"))]
        if not text and not later:
            continue
        distinct: dict[str, int] = {}
        for ln in heads:
            distinct[ln[:100]] = distinct.get(ln[:100], 0) + 1
        detail = "; ".join(f"{n}x {h!r}" for h, n in list(distinct.items())[:3])
        after = f"; {len(later)} more lines once the clients left (shutdown)" if later else ""
        out.append(f"{path.stem} server stderr: {len(text)} lines ({detail}){after}")
    return out


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]
