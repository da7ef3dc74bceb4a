"""Fixtures: a real app process (the probe app) started by the sandbox host."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sandbox.host import AppProcess, AppSandbox, Limits

APPS = Path(__file__).parent / "apps"


class ProbeHarness:
    def __init__(self, sandbox: AppSandbox, data_dir: Path, package_dir: Path) -> None:
        self.sandbox = sandbox
        self.data_dir = data_dir
        self.package_dir = package_dir
        self.accessor_calls: list[tuple[str, list, dict]] = []
        self.logs: list[tuple[str, str]] = []
        self.failed: list[str] = []

    async def probe(self, name: str, arg=None, timeout: float | None = None) -> dict:
        reply = await self.sandbox.process.call("api:probe", {"method": "POST", "content": {"name": name, "arg": arg}},
                                                timeout)
        return reply["content"]


@pytest.fixture
async def probe_app(tmp_path):
    root = tmp_path / "apps" / "probe-app"
    package = root / "1.0.0"
    shutil.copytree(APPS / "probe", package)
    manifest = json.loads((package / "app.json").read_text())
    harness: ProbeHarness

    async def accessors(app_id, name, args, kwargs):
        harness.accessor_calls.append((name, args, kwargs))
        if name == "persistence.create":
            return "rec-1"
        return {"status": 200, "content": "should not happen"}

    def sink(app_id, level, message):
        harness.logs.append((level, message))

    limits = Limits(call_timeout=5.0, ping_interval=0.5, ping_timeout=0.5, memory_mb=256)
    process = AppProcess("probe-app", package, root / "data", limits, accessors, sink,
                         permissions=frozenset(p["name"] for p in manifest["permissions"]))

    async def started(sb: AppSandbox) -> None:
        await sb.process.call("app:construct", {"manifest": manifest})
        await sb.process.call("app:initialize")

    async def failed(sb: AppSandbox, why: str) -> None:
        harness.failed.append(why)

    sandbox = AppSandbox(process, started, failed)
    harness = ProbeHarness(sandbox, root / "data", package)
    await sandbox.start()
    yield harness
    await sandbox.stop()
