"""plugin.lock: `orbitchat lock` writes it, drift is detected (installed but unlocked, locked but missing,
version or content changed), `serve --strict-lock` refuses drift and plain `serve` warns and runs.

The commands run as real subprocesses; a test distribution on PYTHONPATH stands in for a pip-installed
third-party plugin."""
from __future__ import annotations

import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from core import lock as lockfile
from core.context import random_id
from core.storage import free_port
from tests.core.dists import make_dist, unique_name
from tests.core.proc import Served, child_env, orbitchat, wait_http

PLUGIN_SOURCE = '''
from core import hookimpl
from core.rest import Route


class Plugin:
    @hookimpl
    def register_routes(self):
        return [Route("GET", "lockplug.ping", self.ping, auth=False)]

    async def ping(self, req):
        return {"pong": True}
'''


@dataclass
class LockPlug:
    name: str
    module: str
    site: Path
    dist: str = "orbit-lockplug-test"

    @property
    def source(self) -> Path:
        return self.site / self.module / "__init__.py"

    def env(self, **extra: str | None) -> dict[str, str]:
        return child_env(PYTHONPATH=str(self.site), **extra)


@pytest.fixture
def plug(tmp_path, monkeypatch) -> LockPlug:
    module, name = unique_name("orbit_lockplug"), unique_name("lockplug")
    site = make_dist(tmp_path / "site", "orbit-lockplug-test", "0.1", {module: PLUGIN_SOURCE},
                     {name: f"{module}:Plugin"})
    monkeypatch.syspath_prepend(str(site))   # the same distribution, visible to this process too
    return LockPlug(name, module, site)


def run_cli(plug: LockPlug, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([orbitchat(), *args], env=plug.env(), cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=60)


def write_lock(path: Path, *, drop: tuple[str, ...] = (),
               only: tuple[str, ...] | None = None) -> lockfile.Lock:
    """A lock of what is installed now, minus `drop` (or restricted to `only`)."""
    lock = lockfile.build(lockfile.discover(), None)
    for name in list(lock.plugins):
        if name in drop or (only is not None and name not in only):
            del lock.plugins[name]
    lockfile.write(path, lock)
    return lock


def mine(problems: list[str], plug: LockPlug) -> list[str]:
    """Drift lines about the test plugin (the repository's own plugins may be mid-edit)."""
    return [p for p in problems if plug.name in p]


# -- orbitchat lock ---------------------------------------------------------------------------------------
def test_lock_writes_readable_toml_and_keeps_apps_and_enabled(plug, tmp_path):
    path = tmp_path / "plugin.lock"
    path.write_text(f'[plugins.{plug.name}]\ndistribution = "old"\nversion = "0.0.1"\nhash = "x"\n'
                    'enabled = false\n\n[apps."com.example.hello"]\nversion = "1.2.0"\nhash = "sha256:abc"\n'
                    'enabled = true\n')
    result = run_cli(plug, "lock", "--lock", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = tomllib.loads(path.read_text())
    assert result.stdout.strip() == f"wrote {path}: {len(data['plugins'])} plugins, 1 apps"
    assert path.read_text().startswith("# OrbitChat plugin lock")
    assert data["plugins"][plug.name] == {
        "distribution": plug.dist, "version": "0.1", "entry_point": f"{plug.module}:Plugin",
        "hash": lockfile.content_hash(plug.module), "enabled": False,   # the operator's choice is kept
    }
    digest = data["plugins"][plug.name]["hash"]
    assert digest.startswith("sha256:") and len(digest) == 71
    assert data["plugins"]["settings"]["distribution"] == "orbitchat"
    assert data["plugins"]["settings"]["enabled"] is True
    assert data["apps"] == {"com.example.hello": {"version": "1.2.0", "hash": "sha256:abc", "enabled": True}}
    assert not list(tmp_path.glob(".plugin.lock.*"))   # the atomic write left no temporary file


def test_hash_covers_sources_only(plug):
    before = lockfile.content_hash(plug.module)
    __import__(plug.module)   # leaves __pycache__ behind
    assert lockfile.content_hash(plug.module) == before
    (plug.site / plug.module / "extra.py").write_text("X = 1\n")
    assert lockfile.content_hash(plug.module) != before


# -- drift ----------------------------------------------------------------------------------------------
def test_drift_installed_but_not_locked(plug, tmp_path):
    path = tmp_path / "plugin.lock"
    write_lock(path, drop=(plug.name,))
    problems = lockfile.drift(lockfile.read(path), lockfile.discover())
    assert mine(problems, plug) == [f"installed but not locked: {plug.name} ({plug.dist} 0.1)"]
    result = run_cli(plug, "check-lock", "--lock", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert f"installed but not locked: {plug.name} ({plug.dist} 0.1)" in result.stdout.splitlines()


def test_drift_locked_but_missing_and_version_changed(plug, tmp_path):
    path = tmp_path / "plugin.lock"
    lock = write_lock(path)
    lock.plugins["ghost"] = lockfile.LockedPlugin("ghost", "ghost-dist", "1.0", "sha256:00", True,
                                                  "ghost:Plugin")
    lock.plugins[plug.name].version = "0.0.9"
    lockfile.write(path, lock)
    problems = lockfile.drift(lockfile.read(path), lockfile.discover())
    assert "locked but missing: ghost (ghost-dist 1.0)" in problems
    assert mine(problems, plug) == [f"version changed: {plug.name} locked 0.0.9, installed 0.1"]
    result = run_cli(plug, "check-lock", "--lock", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "locked but missing: ghost (ghost-dist 1.0)" in result.stdout.splitlines()


def test_drift_content_changed_after_editing_plugin(plug, tmp_path):
    path = tmp_path / "plugin.lock"
    write_lock(path)
    assert mine(lockfile.drift(lockfile.read(path), lockfile.discover()), plug) == []
    plug.source.write_text(PLUGIN_SOURCE + "\n# a local patch nobody locked\n")
    problems = lockfile.drift(lockfile.read(path), lockfile.discover())
    assert mine(problems, plug) == [f"content changed: {plug.name} (hash differs from plugin.lock)"]
    # `lock --check` reports the drift it replaced (exit 1) and leaves a lock that matches.
    result = run_cli(plug, "lock", "--check", "--lock", str(path), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert mine(lockfile.drift(lockfile.read(path), lockfile.discover()), plug) == []
    assert lockfile.read(path).plugins[plug.name].hash == lockfile.content_hash(plug.module)


# -- serve ----------------------------------------------------------------------------------------------
@pytest.fixture
async def db_env(mongo_url):
    """MONGO_URL of the session's database server and a database name of our own, dropped afterwards."""
    name = "t_" + random_id(10)
    yield {"MONGO_URL": mongo_url, "ORBITCHAT_DB": name}
    client = AsyncMongoClient(mongo_url)
    await client.drop_database(name)
    await client.close()


def serve_args(path: Path, tmp_path: Path, port: int, *extra: str) -> list[str]:
    return ["serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), "--lock", str(path), *extra]


async def refused(plug: LockPlug, db_env: dict, args: list[str], cwd: Path) -> Served:
    served = await Served.start(args, plug.env(**db_env), cwd)
    try:
        assert await served.wait(60) == 2, served.output
    finally:
        await served.ensure_stopped()
    return served


async def test_strict_lock_refuses_unlocked_plugin(plug, tmp_path, db_env):
    path = tmp_path / "plugin.lock"
    write_lock(path, drop=(plug.name,))
    served = await refused(plug, db_env, serve_args(path, tmp_path, free_port(), "--strict-lock"), tmp_path)
    assert "orbitchat: refusing to start: plugin.lock does not match the installed plugins" in served.output
    assert f"installed but not locked: {plug.name} ({plug.dist} 0.1)" in served.output
    assert "listening on" not in served.output
    assert not (tmp_path / "data" / "db").exists()   # refused before touching any database


async def test_strict_lock_refuses_changed_content_and_missing_lock(plug, tmp_path, db_env):
    path = tmp_path / "plugin.lock"
    write_lock(path)
    plug.source.write_text(PLUGIN_SOURCE.replace('"pong": True', '"pong": "patched"'))
    served = await refused(plug, db_env, serve_args(path, tmp_path, free_port(), "--strict-lock"), tmp_path)
    assert f"content changed: {plug.name} (hash differs from plugin.lock)" in served.output
    missing = tmp_path / "no-such.lock"
    args = serve_args(missing, tmp_path, free_port(), "--strict-lock")
    served = await refused(plug, db_env, args, tmp_path)
    assert f"no lock file at {missing}" in served.output


async def test_drift_is_reported_and_server_starts_without_strict_lock(plug, tmp_path, db_env):
    path = tmp_path / "plugin.lock"
    write_lock(path, only=("settings",))
    port = free_port()
    served = await Served.start(serve_args(path, tmp_path, port), plug.env(**db_env), tmp_path)
    try:
        await served.wait_for_line(rf"listening on http://127\.0\.0\.1:{port}")
        warning = f"plugin.lock drift: installed but not locked: {plug.name} ({plug.dist} 0.1)"
        assert f"orbitchat: warning: {warning}" in served.lines
        await served.wait_for_line(r"^  plugins:  settings$")   # only what the lock enables is loaded
        # MONGO_URL set: that server is used (credentials would be masked), no embedded one is started.
        host = db_env["MONGO_URL"].split("://", 1)[1].split("/", 1)[0].split("@")[-1]
        db_line = f"(db {db_env['ORBITCHAT_DB']})"
        assert any(line.startswith(f"  database: MongoDB mongodb://{host}") and db_line in line
                   for line in served.lines), served.output
        assert not (tmp_path / "data" / "db").exists()
        r = await wait_http(f"http://127.0.0.1:{port}/api/info")
        assert r.status_code == 200 and r.json()["success"] is True
        r = await wait_http(f"http://127.0.0.1:{port}/api/v1/lockplug.ping")
        assert r.status_code == 404   # installed but not locked: not loaded
        served.signal()
        assert await served.wait(30) == 0, served.output
    finally:
        await served.ensure_stopped()
