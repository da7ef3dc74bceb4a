"""Shared fixtures: one embedded database per test run, a fresh database and app per test."""
from __future__ import annotations

import pytest

from apps_sdk.testing.server import drop_database
from core.context import random_id
from tests.helpers import start_server


@pytest.fixture(scope="session")
def mongo_url(orbit_mongo_url):
    """MONGO_URL runs the suite against an existing server; otherwise one embedded server per run (the same one
    the apps_sdk fixtures use, so a worker never starts two)."""
    return orbit_mongo_url


@pytest.fixture
def db_name():
    return "t_" + random_id(10)


@pytest.fixture
async def server_factory(mongo_url, db_name, tmp_path):
    """`await server_factory(plugins=(...), env={...})` starts an app; all are stopped and the db dropped."""
    started = []

    async def make(plugins=("settings",), env=None, **config):
        srv = await start_server(mongo_url, db_name, plugins, env, data_dir=tmp_path, **config)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        await srv.stop()
    await drop_database(mongo_url, db_name)


@pytest.fixture
async def server(server_factory):
    return await server_factory()


@pytest.fixture(scope="session")
def nats_url():
    """A real nats-server for the run (Debian package `nats-server`, installed by .ci/test)."""
    import shutil
    import subprocess
    import time

    from core.storage import free_port
    exe = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port = free_port()
    proc = subprocess.Popen([exe, "-a", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    import socket
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("nats-server did not start") from None
            time.sleep(0.05)
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
