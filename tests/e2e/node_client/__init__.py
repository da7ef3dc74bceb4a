"""Rocket.Chat's JavaScript client (`@rocket.chat/ddp-client` from npm) in a Node.js subprocess.

`.ci/test` runs `npm ci` here. The package's published `@rocket.chat/ui-kit` dependency names `typia` through
a Yarn patch that npm cannot resolve, so package.json overrides it with the registry release of the same
version; nothing of the client itself is changed.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


class NodeClient:
    """One `node driver.js` process: a logged-in DDPSDK whose commands and stream events are JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process, uid: str) -> None:
        self.proc = proc
        self.uid = uid
        self._refs = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self.events: dict[int, asyncio.Queue] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, base_url: str, username: str, password: str) -> NodeClient:
        node = shutil.which("node")
        assert node, "Node.js is required (.ci/test installs it)"
        assert (HERE / "node_modules" / "@rocket.chat" / "ddp-client").is_dir(), "run .ci/test (npm ci)"
        proc = await asyncio.create_subprocess_exec(
            node, str(HERE / "driver.js"), base_url, username, password, cwd=HERE,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        async with asyncio.timeout(20):
            first = json.loads(await proc.stdout.readline() or b"null")
        if not first or first.get("op") != "login":
            proc.kill()
            err = (await proc.stderr.read()).decode(errors="replace")
            raise AssertionError(f"node client did not log in: {first} {err}")
        return cls(proc, first["uid"])

    async def _read(self) -> None:
        while line := await self.proc.stdout.readline():
            msg = json.loads(line)
            if msg["op"] == "event":
                self.events[msg["stream"]].put_nowait(msg["args"])
            elif (fut := self._pending.pop(msg.get("ref"), None)) is not None and not fut.done():
                fut.set_result(msg)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(EOFError("node client exited"))

    async def command(self, op: str, timeout: float = 10, **fields: Any) -> dict:
        ref = next(self._refs)
        fut = asyncio.get_running_loop().create_future()
        self._pending[ref] = fut
        if op == "stream":
            self.events[ref] = asyncio.Queue()
        self.proc.stdin.write(json.dumps({"ref": ref, "op": op, **fields}).encode() + b"\n")
        await self.proc.stdin.drain()
        async with asyncio.timeout(timeout):
            reply = await fut
        reply["ref"] = ref
        return reply

    async def stream(self, name: str, key: str) -> int:
        reply = await self.command("stream", name=name, key=key)
        assert reply["op"] == "ready", reply
        return reply["ref"]

    async def call(self, method: str, *params: Any) -> Any:
        reply = await self.command("call", method=method, params=list(params))
        assert reply["op"] == "result", reply
        return reply["result"]

    async def rest(self, method: str, path: str, body: Any = None) -> dict:
        return await self.command("rest", method=method, path=path, body=body)

    async def next_event(self, stream: int, timeout: float = 5) -> list:
        async with asyncio.timeout(timeout):
            return await self.events[stream].get()

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.stdin.close()
            try:
                async with asyncio.timeout(5):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await self._reader
