"""Rocket.Chat's own JavaScript client (`@rocket.chat/ddp-client`, Node.js) against a fresh server: it logs in
with a password digest, subscribes to the streams its web client uses, and receives live messages, edits,
reactions, deletions, typing and status changes made by another user over REST and DDP. It also sends through
its own method call and REST client."""
from __future__ import annotations

import asyncio

from tests.e2e.node_client import NodeClient
from tests.users import create_user

PLUGINS = ("settings", "accounts", "authorization", "presence", "rooms", "messaging", "ddp_streamer")
ENV = {"ORBITCHAT_BCRYPT_ROUNDS": "4"}


async def next_status(node: NodeClient, stream: int, uid: str, status: int) -> list:
    """user-status events for everyone are on one stream: skip to `uid`'s `status`."""
    async with asyncio.timeout(5):
        while True:
            (args,) = await node.next_event(stream)
            if args[0] == uid and args[2] == status:
                return args


async def test_rocketchat_js_client_receives_live_changes(server_factory):
    srv = await server_factory(plugins=PLUGINS, env=ENV)
    await create_user(srv, "alice", password="alice-pw-1")
    bob = await create_user(srv, "bob", password="bob-pw-1")
    created = await srv.http.post("/api/v1/channels.create", headers=bob.headers,
                                  json={"name": "lobby", "members": ["alice"]})
    rid = created.json()["channel"]["_id"]

    node = await NodeClient.start(srv.base_url, "alice", "alice-pw-1")
    try:
        messages = await node.stream("room-messages", rid)
        activity = await node.stream("notify-room", f"{rid}/user-activity")
        deleted = await node.stream("notify-room", f"{rid}/deleteMessage")
        statuses = await node.stream("notify-logged", "user-status")
        refused = await node.command("stream", name="notify-user", key=f"{bob.id}/message")
        assert refused["op"] == "error", refused         # another user's stream is not hers

        # a message bob sends over REST
        sent = await srv.http.post("/api/v1/chat.sendMessage", headers=bob.headers,
                                   json={"message": {"rid": rid, "msg": "hello from REST"}})
        mid = sent.json()["message"]["_id"]
        (msg,) = await node.next_event(messages)
        assert (msg["_id"], msg["msg"], msg["u"]["username"], msg["rid"]) == (mid, "hello from REST", "bob", rid)

        # her own message through the client's DDP method call comes back on the stream
        mine = await node.call("sendMessage", {"rid": rid, "msg": "hello from node"})
        (echo,) = await node.next_event(messages)
        assert echo["_id"] == mine["_id"] and echo["msg"] == "hello from node" and echo["u"]["username"] == "alice"

        # bob's edit
        edit = await srv.http.post("/api/v1/chat.update", headers=bob.headers,
                                   json={"roomId": rid, "msgId": mid, "text": "hello, edited"})
        assert edit.status_code == 200, edit.text
        (edited,) = await node.next_event(messages)
        assert (edited["_id"], edited["msg"], edited["editedBy"]["username"]) == (mid, "hello, edited", "bob")

        # her reaction through the client's REST client
        reacted = await node.rest("post", "/v1/chat.react", {"messageId": mid, "emoji": "smile"})
        assert reacted["op"] == "result" and reacted["result"]["success"] is True, reacted
        (with_reaction,) = await node.next_event(messages)
        assert with_reaction["_id"] == mid
        assert with_reaction["reactions"] == {":smile:": {"usernames": ["alice"]}}

        # bob typing over DDP, as Rocket.Chat's web client sends it
        ddp = await srv.ddp()
        assert "result" in await ddp.login(bob.token)
        typed = await ddp.call("stream-notify-room", f"{rid}/user-activity", "bob", ["user-typing"], {})
        assert "error" not in typed, typed
        assert await node.next_event(activity) == ["bob", ["user-typing"], {}]

        # bob's status change (2 = away in Rocket.Chat's status codes)
        away = await srv.http.post("/api/v1/users.setStatus", headers=bob.headers,
                                   json={"status": "away", "message": "lunch"})
        assert away.status_code == 200, away.text
        status = await next_status(node, statuses, bob.id, 2)
        assert status[:2] == [bob.id, "bob"] and status[3] == "lunch"

        # bob deletes his message
        gone = await srv.http.post("/api/v1/chat.delete", headers=bob.headers, json={"roomId": rid, "msgId": mid})
        assert gone.status_code == 200, gone.text
        assert await node.next_event(deleted) == [{"_id": mid}]

        # after stop, room messages no longer arrive: bob's next message would precede his next typing event
        assert (await node.command("stop", stream=messages))["op"] == "stopped"
        assert (await node.call("getRoomById", rid))["_id"] == rid   # methods run after the unsub, in order
        await srv.http.post("/api/v1/chat.sendMessage", headers=bob.headers,
                            json={"message": {"rid": rid, "msg": "nobody listens"}})
        await ddp.call("stream-notify-room", f"{rid}/user-activity", "bob", [], {})
        assert await node.next_event(activity) == ["bob", [], {}]
        assert node.events[messages].empty()
    finally:
        await node.close()
