"""pytest plugin for app authors: test an app against a real OrbitChat running in the test's event loop.

Loaded automatically where `orbitchat` is installed (a `pytest11` entry point); elsewhere add
`pytest_plugins = ["apps_sdk.testing"]` to the root conftest.py. Fixtures:

- `orbit_mongo_url` (session): `MONGO_URL`, or one embedded SecantusDB server for the whole run;
- `orbit_server` (function): a server with `orbit_plugins` (the standard set) in its own database;
- `orbit` (function): an `Orbit` with `admin` and `user` clients, `install_app`, `create_channel`,
  `send_message`, `run_command`, `interact`, `history`, `ddp()` and `wait_for(predicate)`.

Override `orbit_env` (`{"OVERWRITE_SETTING_<id>": value}`) or `orbit_plugins` in a conftest to change them.

    async def test_greets(orbit):
        app = await orbit.install_app(Path(__file__).parent.parent)
        room = await orbit.create_channel("lobby", members=[orbit.user.username])
        await orbit.run_command("hello", room["_id"])
        await orbit.wait_for(lambda: orbit.history(room["_id"]))
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from apps_sdk.testing.orbit import STANDARD_PLUGINS, AppHandle, Client, Orbit
from apps_sdk.testing.server import RunningServer, drop_database, embedded_database, start_server
from apps_sdk.testing.users import TestUser, create_user

try:   # async fixtures that work in pytest-asyncio's strict and auto modes alike
    from pytest_asyncio import fixture as async_fixture
except ImportError:   # an installed plugin must never break pytest: without pytest-asyncio the fixtures error
    async_fixture = pytest.fixture

__all__ = ["STANDARD_PLUGINS", "AppHandle", "Client", "DdpClient", "Orbit", "RunningServer", "TestUser",
           "create_user", "start_server"]


def __getattr__(name: str) -> Any:
    if name == "DdpClient":   # needs `websockets` (orbitchat[test]); imported when first used
        from apps_sdk.testing.ddp import DdpClient
        return DdpClient
    raise AttributeError(name)


@pytest.fixture(scope="session")
def orbit_mongo_url() -> Iterator[str]:
    """One database server per test run; each test gets its own database on it."""
    with embedded_database() as url:
        yield url


@pytest.fixture
def orbit_plugins() -> tuple[str, ...]:
    return STANDARD_PLUGINS


@pytest.fixture
def orbit_env() -> dict[str, str]:
    return {}


@async_fixture
async def orbit_server(orbit_mongo_url: str, orbit_plugins: tuple, orbit_env: dict,
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    from core.context import random_id

    db_name = "app_" + random_id(10)
    data_dir = tmp_path_factory.mktemp("orbitchat")
    try:
        # No plugin.lock in data_dir: installed apps are not pinned, and the repository's lock is untouched.
        srv = await start_server(orbit_mongo_url, db_name, tuple(orbit_plugins), dict(orbit_env),
                                 data_dir=data_dir, lock_path=data_dir / "plugin.lock")
        try:
            yield srv
        finally:
            await srv.stop()
    finally:
        await drop_database(orbit_mongo_url, db_name)


@async_fixture
async def orbit(orbit_server: RunningServer) -> AsyncIterator[Orbit]:
    world = await Orbit.create(orbit_server)
    try:
        yield world
    finally:
        await world.close()
