"""End to end over websockets: what messaging emits reaches subscribed clients through ddp_streamer."""
from __future__ import annotations

import pytest

from tests.plugins.messaging.conftest import caller, make_server


@pytest.fixture
async def live(server_factory):
    srv = await make_server(server_factory, "ddp_streamer")
    return srv, await caller(srv, "alice"), await caller(srv, "bob")


def room_event(stream: str, key: str):
    return lambda m: (m.get("msg") == "changed" and m.get("collection") == stream
                      and m["fields"]["eventName"] == key)


async def test_send_edit_react_delete_reach_room_subscribers(live):
    _, alice, bob = live
    room = await alice.channel("live", ("bob",))
    watcher = await bob.ddp()
    assert (await watcher.sub("stream-room-messages", room["_id"], {"useCollection": False, "args": []}))[
        "msg"] == "ready"
    assert (await watcher.sub("stream-notify-room", f"{room['_id']}/deleteMessage", False))["msg"] == "ready"
    sender = await alice.ddp()
    sent = (await sender.call("sendMessage", {"_id": "live00000001", "rid": room["_id"], "msg": "hi bob"}))["result"]
    frame = await watcher.expect(room_event("stream-room-messages", room["_id"]))
    assert frame["fields"]["args"][0]["_id"] == sent["_id"] and frame["fields"]["args"][0]["msg"] == "hi bob"
    await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=sent["_id"], text="hi bob!")
    frame = await watcher.expect(room_event("stream-room-messages", room["_id"]))
    assert frame["fields"]["args"][0]["msg"] == "hi bob!" and frame["fields"]["args"][0]["editedAt"]
    await alice.ok("POST", "chat.react", messageId=sent["_id"], emoji="wave")
    frame = await watcher.expect(room_event("stream-room-messages", room["_id"]))
    assert frame["fields"]["args"][0]["reactions"] == {":wave:": {"usernames": ["alice"]}}
    await alice.ok("POST", "chat.delete", roomId=room["_id"], msgId=sent["_id"])
    frame = await watcher.expect(room_event("stream-notify-room", f"{room['_id']}/deleteMessage"))
    assert frame["fields"]["args"] == [{"_id": sent["_id"]}]


async def test_a_refused_ddp_send_tells_the_sender_why(live):
    _, alice, bob = live
    group = await alice.group("closed")
    client = await bob.ddp()
    assert (await client.sub("stream-notify-user", f"{bob.id}/message", False))["msg"] == "ready"
    reply = await client.call("sendMessage", {"rid": group["_id"], "msg": "knock knock"})
    assert reply["error"]["error"] == "error-not-allowed"
    frame = await client.expect(room_event("stream-notify-user", f"{bob.id}/message"))
    assert frame["fields"]["args"][0]["msg"] == "Not allowed" and frame["fields"]["args"][0]["rid"] == group["_id"]
