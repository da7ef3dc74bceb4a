"""A real Rocket.Chat client, PyPI `rocketchat-async`, logs in over the websocket and sees another user's
status change. The library has no presence helper, so the subscription goes through its own dispatcher,
exactly as its `subscribe_to_*` helpers do."""
import asyncio

import rocketchat_async

from tests.plugins.presence.conftest import create_user, wait_status


async def stop(rc) -> None:
    """The library has no close(): cancelling its tasks closes the websocket."""
    tasks = [t for t in (getattr(rc, "dispatch_task", None), getattr(rc, "_ws_connection_task", None)) if t]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_rocketchat_async_client_sees_status_changes(srv):
    alice = await create_user(srv, "alice", name="Alice A", password="alice-secret-1")
    bob = await create_user(srv, "bob", password="bob-secret-1")
    seen: asyncio.Queue = asyncio.Queue()

    watcher = rocketchat_async.RocketChat()
    await watcher.start(srv.ws_url, "bob", "bob-secret-1")          # password digest login
    assert watcher.user_id == bob.id
    await wait_status(srv, bob, "online")
    await watcher._dispatcher.create_subscription(
        {"msg": "sub", "id": "presence-1", "name": "stream-notify-logged",
         "params": ["user-status", {"useCollection": False, "args": []}]},
        "presence-1", lambda msg: seen.put_nowait(msg["fields"]["args"][0]))

    async def next_status_of(uid: str) -> list:
        async with asyncio.timeout(5):
            while True:
                args = await seen.get()
                if args[0] == uid:
                    return args

    other = rocketchat_async.RocketChat()
    await other.resume(srv.ws_url, "alice", alice.token)             # resume-token login
    assert await next_status_of(alice.id) == [alice.id, "alice", 1, "", "Alice A", ["user"]]

    r = await srv.http.post("/api/v1/users.setStatus", headers=alice.headers,
                            json={"status": "busy", "message": "Presenting"})
    assert r.status_code == 200, r.text
    assert (await next_status_of(alice.id))[:4] == [alice.id, "alice", 3, "Presenting"]

    await stop(other)                                                 # alice's socket goes away
    assert (await next_status_of(alice.id))[:3] == [alice.id, "alice", 0]
    await stop(watcher)
    await wait_status(srv, bob, "offline")
