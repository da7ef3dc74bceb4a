"""Real Rocket.Chat client libraries from PyPI drive the message flows: `rocketchat-api` (REST, sync, in a
worker thread while the server serves in the test's event loop) and `rocketchat-async` (DDP)."""
from __future__ import annotations

import asyncio
from typing import Any

from tests.plugins.messaging.conftest import make_server
from tests.users import create_user


def rest_flows(base_url: str) -> dict[str, Any]:
    """Channel, thread, reaction, edit, delete, pin, star, search, private group and DM, as a script would.
    The library's paginated calls (history, thread, search, pinned) page with offset/count until a short page."""
    from rocketchat_API.rocketchat import RocketChat

    alice = RocketChat("alice", "alice-pw", server_url=base_url)
    bob = RocketChat("bob", "bob-pw", server_url=base_url)
    out: dict[str, Any] = {}
    room = alice.channels_create("client-flow", members=["bob"])["channel"]
    rid = room["_id"]
    posted = alice.chat_post_message("hello bob", room_id=rid)["message"]
    out["posted"] = posted
    out["reply"] = bob.chat_post_message("a thread reply", room_id=rid, tmid=posted["_id"])["message"]
    bob.chat_react(posted["_id"], emoji="smile")
    out["edited"] = alice.chat_update(rid, posted["_id"], "hello bob (edited)")["message"]
    doomed = bob.chat_post_message("to be deleted", room_id=rid)["message"]
    out["deleted"] = bob.chat_delete(rid, doomed["_id"])
    out["thread"] = list(alice.chat_get_thread_messages(posted["_id"]))
    out["got"] = bob.chat_get_message(posted["_id"])["message"]
    alice.chat_pin_message(posted["_id"])
    bob.chat_star_message(posted["_id"])
    out["pinned"] = list(bob.chat_get_pinned_messages(room_id=rid))
    out["search"] = list(alice.chat_search(room_id=rid, search_text="EDITED"))
    out["history"] = list(bob.channels_history(rid, count=2))   # pages of 2: offset honoured
    group = alice.groups_create("client-group", members=["bob"])["group"]
    alice.chat_post_message("members only", room_id=group["_id"])
    out["group_history"] = list(bob.groups_history(group["_id"]))
    dm = alice.dm_create("bob")["room"]
    alice.chat_post_message("just between us", room_id=dm["_id"])
    out["dm_history"] = list(bob.dm_history(dm["_id"]))
    out["sync"] = bob.chat_sync_messages(rid, "2000-01-01T00:00:00.000Z")["result"]
    return out


async def test_rocketchat_api_message_flows(server_factory):
    srv = await make_server(server_factory)
    alice = await create_user(srv, "alice", password="alice-pw")
    await create_user(srv, "bob", password="bob-pw")
    out = await asyncio.to_thread(rest_flows, srv.base_url)
    posted, reply = out["posted"], out["reply"]
    assert posted["u"]["_id"] == alice.id and posted["msg"] == "hello bob"
    assert reply["tmid"] == posted["_id"]
    assert out["edited"]["msg"] == "hello bob (edited)" and out["edited"]["editedBy"]["username"] == "alice"
    assert out["deleted"]["success"] is True
    assert [m["msg"] for m in out["thread"]] == ["a thread reply"]
    got = out["got"]
    assert got["reactions"] == {":smile:": {"usernames": ["bob"]}} and got["tcount"] == 1
    assert [m["_id"] for m in out["pinned"]] == [posted["_id"]]
    assert [m["_id"] for m in out["search"]] == [posted["_id"]]
    texts = [m["msg"] for m in out["history"] if not m.get("t")]
    assert texts == ["hello bob (edited)"]          # reply stays in its thread, the deleted one is gone
    assert [m["msg"] for m in out["group_history"] if not m.get("t")] == ["members only"]
    assert [m["msg"] for m in out["dm_history"]] == ["just between us"]
    assert {m["_id"] for m in out["sync"]["updated"]} >= {posted["_id"], reply["_id"]}
    assert len(out["sync"]["deleted"]) == 1


async def test_rocketchat_async_bot_sends_reacts_and_listens(server_factory):
    import rocketchat_async as rc_async

    srv = await make_server(server_factory, "ddp_streamer")
    await create_user(srv, "alice", password="alice-pw")
    bob = await create_user(srv, "bob", password="bob-pw")
    r = await srv.http.post("/api/v1/channels.create", json={"name": "bots", "members": ["alice"]},
                            headers=bob.headers)
    rid = r.json()["channel"]["_id"]
    bot = rc_async.RocketChat()
    await asyncio.wait_for(bot.start(srv.ws_url, "alice", "alice-pw"), 10)
    seen: list[dict] = []
    await bot.subscribe_to_channel_messages_raw(rid, seen.append)
    await asyncio.sleep(0.2)
    await srv.http.post("/api/v1/chat.postMessage", json={"roomId": rid, "text": "ping"}, headers=bob.headers)
    await asyncio.wait_for(_until(lambda: any(m.get("msg") == "ping" for m in seen)), 10)
    ping = next(m for m in seen if m.get("msg") == "ping")
    await bot.send_message("pong", rid, thread_id=ping["_id"])
    await bot.send_reaction(ping["_id"], ":robot:")
    await asyncio.wait_for(_until(lambda: any(m.get("msg") == "pong" for m in seen)), 10)
    pong = next(m for m in seen if m.get("msg") == "pong")
    assert len(pong["_id"]) == 12 and pong["tmid"] == ping["_id"]   # the client-made id is kept
    await asyncio.wait_for(_until(lambda: any(m.get("_id") == ping["_id"] and m.get("reactions")
                                              for m in seen)), 10)
    bot._ws_connection_task.cancel()
    bot.dispatch_task.cancel()


async def _until(predicate: Any) -> None:
    while not predicate():
        await asyncio.sleep(0.05)
