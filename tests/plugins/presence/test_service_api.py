"""What other services and plugins use: broker actions, the `presence.status` event, the status hook."""
import asyncio

import pytest

from core import hookimpl
from core.errors import MeteorError
from tests.plugins.presence.conftest import PLUGINS, create_user, login, wait_status


async def test_set_status_and_get_status_actions(srv, events):
    alice = await create_user(srv, "alice")
    broker = srv.kernel.broker
    assert await broker.call("presence.get_status", alice.id) == {
        "status": "offline", "statusText": "", "connectionStatus": "offline"}

    # REST users.setStatus without a websocket: the choice is stored, the user stays offline.
    assert await broker.call("presence.set_status", alice.id, "busy", status_text="In a meeting") is True
    assert await broker.call("presence.get_status", alice.id) == {
        "status": "offline", "statusText": "In a meeting", "connectionStatus": "offline"}
    await events.wait_for(lambda e: e["user"]["statusText"] == "In a meeting" and e["user"]["status"] == "offline")

    await login(srv, alice)
    await wait_status(srv, alice, "busy")
    assert await broker.call("presence.get_status", alice.id) == {
        "status": "busy", "statusText": "In a meeting", "connectionStatus": "online"}
    # Nothing changes: False, no event.
    count = len(events.items)
    assert await broker.call("presence.set_status", alice.id, "busy") is False
    assert len(events.items) == count
    assert await broker.call("presence.get_status", "no-such-user") is None


async def test_set_status_action_applies_the_rules(start):
    srv = await start(env={"OVERWRITE_SETTING_Accounts_AllowInvisibleStatusOption": "false"})
    bob = await create_user(srv, "bob")
    with pytest.raises(MeteorError) as err:
        await srv.kernel.broker.call("presence.set_status", bob.id, "offline")
    assert err.value.code == "error-status-not-allowed"
    with pytest.raises(MeteorError) as err:
        await srv.kernel.broker.call("presence.set_status", bob.id, "asleep")
    assert err.value.code == "error-invalid-status"


async def test_broadcast_can_be_disabled(start):
    srv = await start(env={"OVERWRITE_SETTING_Troubleshoot_Disable_Presence_Broadcast": "true"})
    seen = []
    await srv.kernel.broker.subscribe("presence.status", seen.append)
    carol = await create_user(srv, "carol")
    await login(srv, carol)
    await wait_status(srv, carol, "online")
    assert seen == []


class StatusWatcher:
    name = "status_watcher"

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.called = asyncio.Event()

    @hookimpl
    async def post_user_status_changed(self, user, status, previous_status, status_text):
        self.calls.append((user["_id"], user["username"], status, previous_status, status_text))
        self.called.set()


async def test_hook_post_user_status_changed(start):
    watcher = StatusWatcher()
    srv = await start(plugins=PLUGINS + (watcher,))
    dave = await create_user(srv, "dave")
    client = await login(srv, dave)
    await wait_status(srv, dave, "online")
    await asyncio.wait_for(watcher.called.wait(), 5)
    assert watcher.calls[0] == (dave.id, "dave", "online", "offline", "")
    await client.call("setUserStatus", "away", "brb")
    await wait_status(srv, dave, "away")
    await srv.kernel.hooks.drain()
    assert watcher.calls[-1] == (dave.id, "dave", "away", "online", "brb")
