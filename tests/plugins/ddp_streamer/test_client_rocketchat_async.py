"""PyPI `rocketchat-async`, a real Rocket.Chat client: its typing event and its channel-changes subscription."""
from __future__ import annotations

import asyncio

import rocketchat_async

from tests.plugins.ddp_streamer.conftest import FAST, event_of
from tests.users import create_user

PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging", "ddp_streamer")


async def stop(rc) -> None:
    """The library has no close(): cancelling its tasks closes the websocket."""
    tasks = [t for t in (getattr(rc, "dispatch_task", None), getattr(rc, "_ws_connection_task", None)) if t]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_typing_and_channel_changes_with_rocketchat_async(server_factory):
    srv = await server_factory(plugins=PLUGINS, env=dict(FAST))
    await create_user(srv, "alice", password="alice-pw-1")
    bob = await create_user(srv, "bob", password="bob-pw-1")
    created = await srv.http.post("/api/v1/channels.create", headers=bob.headers,
                                  json={"name": "lobby", "members": ["alice"]})
    rid = created.json()["channel"]["_id"]

    watcher = await srv.ddp()
    assert (await watcher.call("login", {"resume": bob.token}))["result"]["id"] == bob.id
    assert (await watcher.sub("stream-notify-room", f"{rid}/typing", False))["msg"] == "ready"

    rc = rocketchat_async.RocketChat()
    await rc.start(srv.ws_url, "alice", "alice-pw-1")
    try:
        changes: asyncio.Queue = asyncio.Queue()
        await rc.subscribe_to_channel_changes(lambda cid, kind: changes.put_nowait((cid, kind)))
        await rc.send_typing_event(rid)
        got = await watcher.expect(event_of("stream-notify-room", f"{rid}/typing"))
        assert got["fields"]["args"] == ["alice", True]

        # a room alice is added to later shows up through her channel-changes subscription
        group = await srv.http.post("/api/v1/groups.create", headers=bob.headers,
                                    json={"name": "later", "members": ["alice"]})
        gid = group.json()["group"]["_id"]
        async with asyncio.timeout(5):
            while await changes.get() != (gid, "p"):
                pass
        # and a change to a room she is in reaches her too
        topic = await srv.http.post("/api/v1/channels.setTopic", headers=bob.headers,
                                    json={"roomId": rid, "topic": "news"})
        assert topic.status_code == 200, topic.text
        async with asyncio.timeout(5):
            while await changes.get() != (rid, "c"):
                pass
    finally:
        await stop(rc)
