"""The app authors' pytest plugin (apps_sdk.testing): a real server with the standard plugins, clients that
speak for an admin and a user, app install that explains failures, waiting helpers, overrides, and the
scaffolded app passing its own tests in a fresh pytest process."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from apps_sdk import testing
from apps_sdk.scaffold import new_app
from tests import helpers, users


async def test_a_server_with_the_standard_plugins_and_two_users(orbit):
    info = await orbit.admin.ok("GET", "/api/info")
    assert info["info"]["plugins"] == list(testing.STANDARD_PLUGINS)
    assert (await orbit.user.ok("GET", "me"))["username"] == "alice"
    assert "admin" in (await orbit.admin.ok("GET", "me"))["roles"]

    bob = await orbit.create_user("bob")
    room = await orbit.create_channel("plaza", members=["alice", "bob"])
    ws = await orbit.ddp(bob)
    await ws.subscribe("stream-room-messages", room["_id"])
    sent = await orbit.send_message(room["_id"], "hi bob")
    [seen] = await ws.next_event("stream-room-messages", room["_id"])
    assert seen["_id"] == sent["_id"] and seen["u"]["username"] == "alice"
    assert [m["msg"] for m in await orbit.history(room["_id"], by=bob) if not m.get("t")] == ["hi bob"]
    refused = await orbit.send_message("nope", "x", check=False)
    assert refused.status_code == 400


async def test_wait_for_polls_sync_and_async_predicates(orbit):
    calls = []

    def third_time() -> int | None:
        calls.append(1)
        return len(calls) if len(calls) == 3 else None
    assert await orbit.wait_for(third_time, interval=0.01) == 3

    async def never() -> list:
        return []
    with pytest.raises(AssertionError, match="timed out after 0.2s waiting for never"):
        await orbit.wait_for(never, timeout=0.2)


async def test_install_app_explains_why_an_app_did_not_start(orbit, tmp_path):
    new_app(tmp_path / "crashy", "Crashy")
    (tmp_path / "crashy" / "app.py").write_text('raise RuntimeError("no luck at import time")\n')
    with pytest.raises(AssertionError) as failed:
        await orbit.install_app(tmp_path / "crashy")
    assert "did not start (status compiler_error_disabled)" in str(failed.value)
    assert "no luck at import time" in str(failed.value)
    with pytest.raises(AssertionError, match="the server refused the app: HTTP 400"):
        await orbit.install_app(b"not a zip")


async def test_an_app_handle_updates_configures_and_removes(orbit, tmp_path):
    new_app(tmp_path / "greeter", "Greeter")
    app = await orbit.install_app(tmp_path / "greeter", settings={"greeting": "Howdy"})
    assert (await app.refresh())["settings"]["greeting"]["value"] == "Howdy"
    manifest = json.loads((tmp_path / "greeter" / "app.json").read_text())
    (tmp_path / "greeter" / "app.json").write_text(json.dumps({**manifest, "version": "0.2.0"}))
    assert (await app.update(tmp_path / "greeter")).app["version"] == "0.2.0"
    assert await app.set_status("manually_disabled") == "manually_disabled"
    await app.uninstall()
    assert (await orbit.admin.get(f"/api/apps/{app.id}")).status_code == 404


class TestOverrides:
    """A test module or class can change the server's settings (`orbit_env`) and plugin set."""

    @pytest.fixture
    def orbit_env(self):
        return {"OVERWRITE_SETTING_Apps_Allow_Private_Network": "true"}

    @pytest.fixture
    def orbit_plugins(self):
        return ("settings", "accounts", "authorization", "rooms", "messaging", "apps_engine")

    async def test_env_and_plugins(self, orbit):
        assert orbit.server.kernel.settings.get("Apps_Allow_Private_Network") is True
        assert orbit.server.kernel.plugin_names == ["settings", "accounts", "authorization", "rooms", "messaging",
                                                    "apps_engine"]


def test_tests_helpers_share_the_one_copy():
    assert helpers.start_server is testing.start_server and helpers.DdpClient is testing.DdpClient
    assert users.create_user is testing.create_user and users.TestUser is testing.TestUser


def test_a_new_app_passes_its_own_tests_in_a_fresh_pytest(tmp_path):
    """The plugin loads through the `pytest11` entry point, outside this repository's configuration."""
    new_app(tmp_path / "fresh", "Fresh")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path / "fresh",
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
