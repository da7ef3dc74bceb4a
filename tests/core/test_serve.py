"""`orbitchat serve` on the embedded database, as a real subprocess: banner, /api/info, clean stop with the
database child gone, data kept across a restart, and no orphan when the server itself is killed."""
from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from core import lock as lockfile
from core.storage import free_port
from tests.core.proc import Served, child_env, wait_http


def db_processes(db_path: Path) -> dict[int, list[str]]:
    """Live processes whose command line names `db_path` as an argument (the embedded server)."""
    found: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(db_path) in args and state != "Z":
            found[int(entry.name)] = args
    return found


async def wait_gone(db_path: Path, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while db_processes(db_path):
            await asyncio.sleep(0.1)


def db_url_of(db_path: Path) -> str:
    (args,) = db_processes(db_path).values()
    port = args[args.index("--port") + 1]
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


@pytest.fixture
def site(tmp_path):
    """A data directory and a lock that loads only the settings plugin."""
    lock = lockfile.build(lockfile.discover(), None)
    lock.plugins = {"settings": lock.plugins["settings"]}
    lockfile.write(tmp_path / "plugin.lock", lock)
    return tmp_path


async def serve(site: Path) -> tuple[Served, int]:
    port = free_port()
    served = await Served.start(["serve", "--port", str(port), "--data-dir", str(site / "data"),
                                 "--lock", str(site / "plugin.lock")],
                                child_env(MONGO_URL=None, ORBITCHAT_DB=None), site)
    await served.wait_for_line(rf"listening on http://127\.0\.0\.1:{port}$", timeout=60)
    await served.wait_for_line(r"^  plugins:  ")   # the banner's last line
    return served, port


async def test_serve_embedded_database_lifecycle(site):
    db_path = site / "data" / "db"
    served, port = await serve(site)
    try:
        assert f"  database: embedded SecantusDB at {db_path} (db orbitchat)" in served.lines
        assert "  plugins:  settings" in served.lines
        r = await wait_http(f"http://127.0.0.1:{port}/api/info")
        assert r.status_code == 200 and r.json()["success"] is True
        assert len(db_processes(db_path)) == 1
        client = AsyncMongoClient(db_url_of(db_path))
        await client["orbitchat"]["probe"].insert_one({"_id": "kept", "n": 42})
        await client.close()
        served.signal(signal.SIGTERM)
        assert await served.wait(60) == 0, served.output
        assert db_processes(db_path) == {}   # stopped with the server, not left behind
    finally:
        await served.ensure_stopped()

    served, port = await serve(site)   # same data directory: what was written is there
    try:
        client = AsyncMongoClient(db_url_of(db_path))
        assert await client["orbitchat"]["probe"].find_one({"_id": "kept"}) == {"_id": "kept", "n": 42}
        assert await client["orbitchat"]["rocketchat_settings"].find_one({"_id": "API_Default_Count"})
        await client.close()
        # A server killed outright cannot stop its database; the kernel's parent-death signal does.
        served.signal(signal.SIGKILL)
        assert await served.wait(10) == -signal.SIGKILL
        await wait_gone(db_path, timeout=15)
    finally:
        await served.ensure_stopped()

