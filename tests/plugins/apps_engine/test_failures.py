"""A crashing or hanging app is restarted and never holds a message up; one that keeps failing is
error_disabled and its hook is gone."""
from __future__ import annotations

import time

from tests.plugins.apps_engine.conftest import build_zip


async def _restarted(world, app_id: str, generation: int) -> None:
    sandbox = world.engine.running[app_id].sandbox
    await world.wait_for(lambda: sandbox.generation > generation and sandbox.process.alive, what="restart")


async def test_crash_in_a_hook_is_no_opinion_and_the_app_restarts(world):
    await world.admin.installed(build_zip("crasher"))
    sandbox = world.engine.running["crasher"].sandbox
    pid = sandbox.process.proc.pid
    sent = await world.alice.send(world.rid, "crash-now please")
    assert sent.status_code == 200, sent.text
    await _restarted(world, "crasher", 1)
    assert sandbox.process.proc.pid != pid and len(sandbox.failures) == 1
    refused = await world.alice.send(world.rid, "crasher-refuse")
    assert refused.status_code == 400 and refused.json()["details"] == {"reason": "crasher says no"}
    assert (await world.record("crasher"))["status"] == "manually_enabled"


async def test_hang_times_out_within_the_deadline_and_the_app_restarts(world):
    await world.admin.installed(build_zip("crasher"))
    sandbox = world.engine.running["crasher"].sandbox
    started = time.monotonic()
    sent = await world.alice.send(world.rid, "spin-now forever")
    elapsed = time.monotonic() - started
    assert sent.status_code == 200 and sent.json()["message"]["msg"] == "spin-now forever"
    assert elapsed < 1.0 + 1.5, elapsed    # Apps_Call_Timeout_Ms=1000 in these tests, plus the send itself
    await _restarted(world, "crasher", 1)
    assert len(sandbox.failures) == 1     # one hang, one restart
    assert (await world.alice.send(world.rid, "crasher-refuse")).status_code == 400
    logs = world.srv.kernel.db["rocketchat_apps_logs"]
    await world.wait_for(lambda: logs.find_one({"appId": "crasher", "method": "hook:pre_message_sent_prevent"}),
                         what="timeout log")


async def test_repeated_failures_mark_the_app_error_disabled(world):
    await world.admin.installed(build_zip("crasher"))
    events = []
    await world.srv.kernel.broker.subscribe("apps.statusUpdate", events.append)
    sandbox = world.engine.running["crasher"].sandbox
    for n in range(1, 5):
        assert (await world.alice.send(world.rid, "crash-now")).status_code == 200
        await _restarted(world, "crasher", n)
    assert (await world.alice.send(world.rid, "crash-now")).status_code == 200
    await world.wait_for(lambda: "crasher" not in world.engine.running, what="error_disabled")
    assert len(sandbox.failures) == 5 and not sandbox.process.alive
    assert (await world.record("crasher"))["status"] == "error_disabled"
    assert world.srv.kernel.pm.get_plugin("app:crasher") is None
    await world.wait_for(lambda: ["crasher", "error_disabled"] in events, what="statusUpdate event")
    assert (await world.alice.send(world.rid, "crasher-refuse")).status_code == 200
    # an admin may try again
    assert await world.admin.status("crasher", "manually_enabled") == "manually_enabled"
    assert (await world.alice.send(world.rid, "crasher-refuse")).status_code == 400
