"""The escape corpus: an app process tries to leave its sandbox; every attempt must be contained.

Each probe runs inside a real confined app process. Positive controls (writing its own directory, using an
accessor it holds the permission for) prove the probes would report an escape if one happened.
"""
from __future__ import annotations

import asyncio
import os
import socket

import pytest

from sandbox.protocol import RpcError


async def test_positive_control_own_directory_is_writable(probe_app):
    result = await probe_app.probe("write", str(probe_app.data_dir / "ok.txt"))
    assert result["escaped"] is True, result
    assert (probe_app.data_dir / "ok.txt").read_text() == "escaped"


async def test_cannot_read_etc_passwd(probe_app):
    result = await probe_app.probe("read", "/etc/passwd")
    assert result["escaped"] is False and "Permission" in result["detail"], result


async def test_cannot_list_filesystem_outside(probe_app):
    for path in ("/", "/etc", "/tmp", str(probe_app.data_dir.parent.parent), os.path.expanduser("~")):
        result = await probe_app.probe("listdir", path)
        assert result["escaped"] is False, (path, result)


async def test_environment_has_no_server_secrets(probe_app, monkeypatch):
    # The fixture's process started before this variable existed, so restart it with the secret set.
    monkeypatch.setenv("ORBITCHAT_TEST_SECRET", "hunter2")
    await probe_app.sandbox.process.kill()
    await probe_app.sandbox.process.spawn()
    await probe_app.sandbox.on_started(probe_app.sandbox)
    result = await probe_app.probe("environ", "SECRET")
    assert result["escaped"] is False, result
    for var in ("MONGO_URL", "PATH", "HOME"):
        assert (await probe_app.probe("environ", var))["escaped"] is False
    proc_env = await probe_app.probe("read", f"/proc/{os.getpid()}/environ")
    assert proc_env["escaped"] is False, proc_env


async def test_cannot_connect_to_a_local_port(probe_app):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        result = await probe_app.probe("connect", port)
        assert result["escaped"] is False, result
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


async def test_cannot_spawn_a_process(probe_app, tmp_path):
    marker = tmp_path / "spawned"
    result = await probe_app.probe("spawn", str(marker))
    assert result["escaped"] is False, result
    assert not marker.exists()


async def test_cannot_fork(probe_app):
    result = await probe_app.probe("fork")
    assert result["escaped"] is False, result


@pytest.mark.parametrize("call", ["socket", "fork"])
async def test_ctypes_libc_syscalls_refused(probe_app, call):
    result = await probe_app.probe("libc", [call, 0])
    assert result["escaped"] is False and "refused" in result["detail"], result


async def test_cannot_signal_or_trace_the_server(probe_app):
    me = os.getpid()
    assert (await probe_app.probe("kill", me))["escaped"] is False
    assert (await probe_app.probe("libc", ["kill", me]))["escaped"] is False
    assert (await probe_app.probe("libc", ["ptrace", me]))["escaped"] is False
    assert (await probe_app.probe("kill", 1))["escaped"] is False


@pytest.mark.parametrize("where", ["tmp", "package", "parent", "etc"])
async def test_cannot_write_outside_its_directory(probe_app, tmp_path, where):
    target = {"tmp": tmp_path / "outside.txt", "package": probe_app.package_dir / "app.py",
              "parent": probe_app.data_dir.parent / "sibling.txt", "etc": "/etc/orbitchat-escape"}[where]
    before = target.read_bytes() if os.path.exists(target) else None
    result = await probe_app.probe("write", str(target))
    assert result["escaped"] is False, result
    after = target.read_bytes() if os.path.exists(target) else None
    if after != before and where == "etc":
        os.unlink(target)
    assert after == before


async def test_symlink_out_of_its_directory_does_not_help(probe_app, tmp_path):
    target = tmp_path / "via-link.txt"
    result = await probe_app.probe("symlink_write", str(target))
    assert result["escaped"] is False, result
    assert not target.exists()


async def test_no_privileges_to_regain(probe_app, tmp_path):
    victim = tmp_path / "owned-by-the-server"
    victim.write_text("x")
    victim.chmod(0o600)
    assert (await probe_app.probe("chmod", str(victim)))["escaped"] is False
    assert victim.stat().st_mode & 0o777 == 0o600
    setuid = await probe_app.probe("setuid")
    if os.geteuid() == 0 and setuid["escaped"]:
        # Only acceptable when the process already is uid 0 without capabilities: nothing was gained.
        assert setuid["detail"] == "0"
        assert (await probe_app.probe("read", "/root/.bashrc"))["escaped"] is False


async def test_memory_limit(probe_app):
    result = await probe_app.probe("alloc", 4 * 1024 ** 3)
    assert result["escaped"] is False and "MemoryError" in result["detail"], result
    assert await probe_app.sandbox.process.call("ping") == "pong"   # still alive and answering


async def test_spinning_app_is_cut_off_and_restarted(probe_app):
    old_pid = probe_app.sandbox.process.proc.pid
    started = asyncio.get_running_loop().time()
    with pytest.raises(asyncio.TimeoutError):
        await probe_app.probe("spin", timeout=0.5)
    # The server's loop kept running while the app spun.
    await asyncio.sleep(0.05)
    assert asyncio.get_running_loop().time() - started < 2
    for _ in range(100):   # the watchdog notices the missed ping and restarts it
        proc = probe_app.sandbox.process.proc
        if proc is not None and proc.pid != old_pid and probe_app.sandbox.process.alive:
            break
        await asyncio.sleep(0.1)
    assert probe_app.sandbox.process.proc.pid != old_pid
    for _ in range(50):
        try:
            result = await probe_app.probe("write", str(probe_app.data_dir / "after.txt"))
            break
        except (TimeoutError, RpcError, ConnectionError):
            await asyncio.sleep(0.1)
    assert result["escaped"] is True


async def test_accessor_without_permission_is_denied(probe_app):
    result = await probe_app.probe("accessor", "http://example.org/")
    assert result["escaped"] is False and "networking" in result["detail"], result
    assert not any(name.startswith("http.") for name, _, _ in probe_app.accessor_calls)


async def test_accessor_with_permission_is_served(probe_app):
    result = await probe_app.probe("persist", 5)
    assert result == {"id": "rec-1"}
    assert probe_app.accessor_calls[-1][0] == "persistence.create"
