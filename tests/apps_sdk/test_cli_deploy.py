"""`orbitchat app deploy|watch|logs` against a real running server (the apps_sdk `orbit` fixture)."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from apps_sdk.scaffold import new_app
from core.cli import main


@pytest.fixture
def greeter(tmp_path) -> tuple[Path, str]:
    manifest = new_app(tmp_path / "greeter", "Greeter")
    return tmp_path / "greeter", manifest["id"]


def password_auth(orbit) -> list[str]:
    return ["--url", orbit.base_url, "--user", orbit.admin.username, "--password", orbit.admin.password]


def token_auth(orbit) -> list[str]:
    return ["--url", orbit.base_url, f"--token={orbit.admin.token}", f"--user-id={orbit.admin.id}"]


async def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["app", *argv])   # the server answers from this event loop
    out = capsys.readouterr()
    return code, out.out, out.err


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def bump(app_dir: Path, version: str) -> None:
    manifest = json.loads((app_dir / "app.json").read_text())
    (app_dir / "app.json").write_text(json.dumps({**manifest, "version": version}, indent=2))


class Greetings:
    """Runs the greeter's command as the user and returns what the app posted."""

    def __init__(self, orbit, rid: str, ws) -> None:
        self.orbit, self.rid, self.ws = orbit, rid, ws

    @classmethod
    async def open(cls, orbit) -> Greetings:
        rid = (await orbit.create_channel("lobby", members=[orbit.user.username]))["_id"]
        ws = await orbit.ddp()
        await ws.subscribe("stream-room-messages", rid)
        return cls(orbit, rid, ws)

    async def __call__(self) -> str:
        await self.orbit.run_command("greeter", self.rid)
        [message] = await self.ws.next_event("stream-room-messages", self.rid)
        return message["msg"]


async def test_deploy_installs_then_updates(orbit, greeter, capsys, tmp_path):
    app_dir, app_id = greeter
    code, out, err = await cli(capsys, "deploy", str(app_dir), *password_auth(orbit))
    assert (code, out.splitlines()[0]) == (0, f"installed Greeter 0.1.0 ({app_id}): manually_enabled"), err
    greet = await Greetings.open(orbit)
    assert await greet() == "Hello, alice!"

    edit(app_dir / "app.py", 'f"{greeting}, {who}!"', 'f"{greeting}, {who}!!"')
    bump(app_dir, "0.2.0")
    code, out, _ = await cli(capsys, "deploy", str(app_dir), *token_auth(orbit))
    assert (code, out.splitlines()[0]) == (0, f"updated Greeter 0.2.0 ({app_id}): manually_enabled")
    assert await greet() == "Hello, alice!!"

    # a package zip deploys the same way; a version that cannot start is refused and the old one keeps running
    edit(app_dir / "app.py", "class GreeterApp", 'raise RuntimeError("boom")\n\n\nclass GreeterApp')
    bump(app_dir, "0.3.0")
    assert main(["app", "package", str(app_dir), "-o", str(tmp_path / "greeter.zip")]) == 0
    code, _, err = await cli(capsys, "deploy", str(tmp_path / "greeter.zip"), *token_auth(orbit))
    assert code == 1 and "did not start" in err and "0.2.0 keeps running" in err
    assert await greet() == "Hello, alice!!"


async def test_deploy_needs_an_admin(orbit, greeter, capsys):
    app_dir, _ = greeter
    wrong = ["--url", orbit.base_url, "--user", orbit.admin.username, "--password", "not-it"]
    code, _, err = await cli(capsys, "deploy", str(app_dir), *wrong)
    assert code == 1 and "/api/v1/login: HTTP 401" in err
    alice = ["--url", orbit.base_url, f"--token={orbit.user.token}", f"--user-id={orbit.user.id}"]
    code, _, err = await cli(capsys, "deploy", str(app_dir), *alice)
    assert code == 1 and "HTTP 403" in err
    code, _, err = await cli(capsys, "deploy", str(app_dir), "--url", orbit.base_url)
    assert code == 1 and "--token and --user-id" in err


async def spawn(*argv: str) -> asyncio.subprocess.Process:
    exe = Path(sys.executable).with_name("orbitchat")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "core.cli"]
    return await asyncio.create_subprocess_exec(*command, "app", *argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, env={**os.environ})


async def read_until(proc: asyncio.subprocess.Process, needle: str, timeout: float = 30.0) -> list[str]:
    """Lines the process prints up to and including the first containing `needle`."""
    lines: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            raw = await proc.stdout.readline()
            assert raw, f"process ended before printing {needle!r}: {lines}"
            lines.append(raw.decode().rstrip())
            if needle in lines[-1]:
                return lines


async def interrupt(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, out
    return out.decode()


async def test_watch_redeploys_each_change_until_ctrl_c(orbit, greeter):
    app_dir, app_id = greeter
    proc = await spawn("watch", str(app_dir), *token_auth(orbit), "--interval", "0.1", "--debounce", "1.0")
    try:
        await read_until(proc, f"installed Greeter 0.1.0 ({app_id}): manually_enabled")
        greet = await Greetings.open(orbit)
        assert await greet() == "Hello, alice!"

        # a burst of saves is one redeploy (debounce)
        edit(app_dir / "app.py", 'f"{greeting}, {who}!"', 'f"{greeting}, {who}?"')
        await asyncio.sleep(0.15)
        edit(app_dir / "app.py", 'f"{greeting}, {who}?"', 'f"{greeting}, dear {who}!"')
        lines = await read_until(proc, "updated Greeter 0.1.0")
        assert await greet() == "Hello, dear alice!"

        (app_dir / "tests" / "test_more.py").write_text("# not part of the package\n")
        os.utime(app_dir / "app.py")               # touched, same content: nothing to send
        lines += await read_until(proc, "unchanged package")
        (app_dir / "app.py").write_text("def broken(:\n")
        lines += await read_until(proc, "deploy failed: cannot package the app")
        assert "app.py:1:" in (await read_until(proc, "app.py"))[-1]
        assert sum("updated" in line for line in lines) == 1, lines
    finally:
        if proc.returncode is None:
            out = await interrupt(proc)
            assert "watch stopped" in out
    assert await greet() == "Hello, dear alice!"    # the broken save never reached the server


async def test_logs_prints_and_follows(orbit, greeter, capsys):
    app_dir, app_id = greeter
    app = await orbit.install_app(app_dir)

    async def written() -> list[str]:
        return [line for line in await app.logs() if "installed version 0.1.0" in line]
    await orbit.wait_for(written)
    code, out, _ = await cli(capsys, "logs", app_id, *token_auth(orbit))
    assert code == 0 and "lifecycle: installed version 0.1.0" in out and " info " in out

    proc = await spawn("logs", app_id, "--follow", "--interval", "0.2", *token_auth(orbit))
    try:
        await read_until(proc, "installed version 0.1.0")
        await app.set_status("manually_disabled")
        assert "lifecycle: status set to manually_disabled" in (await read_until(proc, "status set to"))[-1]
    finally:
        if proc.returncode is None:
            await interrupt(proc)
