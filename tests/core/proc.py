"""`orbitchat` as a real subprocess: the installed console script, its output read line by line."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx


def orbitchat() -> str:
    """The console script installed beside the interpreter running the tests."""
    return str(Path(sys.executable).parent / "orbitchat")


def child_env(**extra: str | None) -> dict[str, str]:
    """The test environment with `extra` applied (None removes a variable)."""
    env = dict(os.environ)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Served:
    """A running `orbitchat serve`: stdout and stderr collected into `lines`."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._new = asyncio.Event()
        self._readers = [asyncio.create_task(self._read(proc.stdout)),
                         asyncio.create_task(self._read(proc.stderr))]

    @classmethod
    async def start(cls, args: list[str], env: dict[str, str], cwd: Path) -> Served:
        proc = await asyncio.create_subprocess_exec(orbitchat(), *args, env=env, cwd=str(cwd),
                                                    stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        return cls(proc)

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            self._new.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: str, timeout: float = 30.0) -> re.Match:
        """The first output line matching `pattern`; fails if the process exits or time runs out first."""
        rx = re.compile(pattern)
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
                if self.proc.returncode is not None and all(r.done() for r in self._readers):
                    raise AssertionError(f"exited {self.proc.returncode} before printing {pattern!r}:\n"
                                         + self.output)
                self._new.clear()
                try:
                    await asyncio.wait_for(self._new.wait(), 0.2)
                except TimeoutError:
                    pass

    async def wait(self, timeout: float = 30.0) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.gather(*self._readers)
        return code

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    async def ensure_stopped(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for r in self._readers:
            r.cancel()


async def wait_http(url: str, timeout: float = 20.0) -> httpx.Response:
    """GET `url` until it answers (the server prints its banner just before it accepts)."""
    async with httpx.AsyncClient(timeout=5) as client:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    return await client.get(url)
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
