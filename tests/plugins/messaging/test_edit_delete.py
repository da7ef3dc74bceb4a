"""Editing and deleting: permissions, settings, edit fields, tombstones, the trash and the events."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.plugins.messaging.conftest import caller, make_server, settle


async def test_edit_own_message(srv, alice, bob, events):
    room = await alice.channel("edits", ("bob",))
    msg = await alice.send(room["_id"], "typo")
    edited = (await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="fixed @bob"))["message"]
    assert edited["msg"] == "fixed @bob" and edited["_id"] == msg["_id"] and edited["ts"] == msg["ts"]
    assert edited["editedBy"] == {"_id": alice.id, "username": "alice"} and edited["editedAt"] >= msg["ts"]
    assert [m["_id"] for m in edited["mentions"]] == [bob.id]
    updates = [e["message"] for e in events.of("watch.messages") if e["clientAction"] == "updated"]
    assert updates[-1]["msg"] == "fixed @bob"


async def test_edit_someone_elses_message_needs_edit_message(srv, alice, bob, admin):
    room = await alice.channel("edits2", ("bob", "boss"))
    msg = await bob.send(room["_id"], "bob's words")
    body = await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="owner edits")
    assert body["message"]["editedBy"]["_id"] == alice.id     # room owner holds edit-message
    other = await caller(srv, "dave")
    await other.ok("POST", "channels.join", roomId=room["_id"])
    body = await other.fails("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="hijack")
    assert body["errorType"] == "error-action-not-allowed"


async def test_edit_wrong_room_or_unknown_message(srv, alice):
    room = await alice.channel("edits3")
    other = await alice.channel("edits4")
    msg = await alice.send(room["_id"], "here")
    body = await alice.fails("POST", "chat.update", roomId=other["_id"], msgId=msg["_id"], text="x")
    assert body["error"] == "The room id provided does not match where the message is from."
    body = await alice.fails("POST", "chat.update", roomId=room["_id"], msgId="nosuchmessage", text="x")
    assert body["error"] == 'No message found with the id of "nosuchmessage".'


async def test_editing_can_be_disabled_and_time_limited(server_factory):
    srv = await make_server(server_factory, env={"OVERWRITE_SETTING_Message_AllowEditing": "false"})
    alice, bob = await caller(srv, "alice"), await caller(srv, "bob")
    room = await alice.channel("frozen", ("bob",))
    msg = await bob.send(room["_id"], "final")
    body = await bob.fails("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="x")
    assert body["errorType"] == "error-action-not-allowed"
    srv2 = await make_server(server_factory,
                             env={"OVERWRITE_SETTING_Message_AllowEditing_BlockEditInMinutes": "1"})
    carol = await caller(srv2, "carol")
    room = await carol.channel("limited")
    msg = await carol.send(room["_id"], "old")
    past = datetime.now(UTC) - timedelta(minutes=5)
    await srv2.kernel.db["rocketchat_message"].update_one({"_id": msg["_id"]}, {"$set": {"ts": past}})
    body = await carol.fails("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="new")
    assert body["errorType"] == "error-message-editing-blocked"


async def test_ddp_update_message(srv, alice):
    room = await alice.channel("ddp-edit")
    msg = await alice.send(room["_id"], "before")
    ddp = await alice.ddp()
    reply = await ddp.call("updateMessage", {"_id": msg["_id"], "rid": room["_id"], "msg": "after"})
    assert "error" not in reply
    stored = (await alice.ok("GET", "chat.getMessage", msgId=msg["_id"]))["message"]
    assert stored["msg"] == "after" and stored["editedBy"]["username"] == "alice"


async def test_keep_history_stores_hidden_versions(server_factory):
    srv = await make_server(server_factory, env={"OVERWRITE_SETTING_Message_KeepHistory": "true"})
    alice = await caller(srv, "alice")
    room = await alice.channel("history-kept")
    msg = await alice.send(room["_id"], "v1")
    await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="v2")
    copies = await srv.kernel.db["rocketchat_message"].find({"parent": msg["_id"]}).to_list(None)
    assert len(copies) == 1 and copies[0]["msg"] == "v1" and copies[0]["_hidden"] is True
    history = (await alice.ok("GET", "channels.history", roomId=room["_id"]))["messages"]
    assert [m["msg"] for m in history if m.get("t") is None] == ["v2"]


async def test_delete_own_message_goes_to_trash(srv, alice, bob, events):
    room = await alice.channel("deletes", ("bob",))
    msg = await bob.send(room["_id"], "oops")
    body = await bob.ok("POST", "chat.delete", roomId=room["_id"], msgId=msg["_id"])
    assert body["_id"] == msg["_id"] and body["ts"].isdigit()
    assert body["message"] == {"_id": msg["_id"], "rid": room["_id"], "u": msg["u"]}
    db = srv.kernel.db
    assert await db["rocketchat_message"].find_one({"_id": msg["_id"]}) is None
    trashed = await db["rocketchat__trash"].find_one({"_id": msg["_id"]})
    assert trashed["__collection__"] == "rocketchat_message" and trashed["rid"] == room["_id"]
    assert events.of("notify.deleteMessage") == [{"rid": room["_id"], "_id": msg["_id"]}]
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    deleted = await alice.ok("GET", "chat.getDeletedMessages", roomId=room["_id"], since=since)
    assert deleted["messages"] == [{"_id": msg["_id"]}] and deleted["total"] == 1


async def test_delete_others_message_needs_delete_message(srv, alice, bob):
    room = await alice.channel("deletes2", ("bob",))
    mine = await alice.send(room["_id"], "owner's")
    body = await bob.fails("POST", "chat.delete", roomId=room["_id"], msgId=mine["_id"])
    assert body["errorType"] == "error-action-not-allowed"
    theirs = await bob.send(room["_id"], "bob's")
    await alice.ok("POST", "chat.delete", roomId=room["_id"], msgId=theirs["_id"])   # owner: delete-message


async def test_delete_as_user_needs_force_delete(srv, alice, bob):
    room = await bob.channel("deletes3", ("alice",))
    msg = await alice.send(room["_id"], "alice's")
    body = await alice.fails("POST", "chat.delete", roomId=room["_id"], msgId=(await bob.send(room["_id"], "b"))["_id"],
                             asUser=True)
    assert "force-delete-message" in body["error"]
    await bob.ok("POST", "chat.delete", roomId=room["_id"], msgId=msg["_id"], asUser=True)   # owner: force


async def test_deleting_can_be_disabled(server_factory):
    srv = await make_server(server_factory, env={"OVERWRITE_SETTING_Message_AllowDeleting": "false"})
    alice, bob = await caller(srv, "alice"), await caller(srv, "bob")
    room = await alice.channel("permanent", ("bob",))
    msg = await bob.send(room["_id"], "forever")
    body = await bob.fails("POST", "chat.delete", roomId=room["_id"], msgId=msg["_id"])
    assert body["errorType"] == "error-action-not-allowed"


async def test_show_deleted_status_leaves_a_tombstone(server_factory):
    srv = await make_server(server_factory, env={"OVERWRITE_SETTING_Message_ShowDeletedStatus": "true"})
    alice = await caller(srv, "alice")
    room = await alice.channel("tombstones")
    msg = await alice.send(room["_id"], "gone soon", attachments=[{"text": "a"}])
    ddp = await alice.ddp()
    reply = await ddp.call("deleteMessage", {"_id": msg["_id"]})
    assert "error" not in reply
    stored = (await alice.ok("GET", "chat.getMessage", msgId=msg["_id"]))["message"]
    assert stored["t"] == "rm" and stored["msg"] == "" and stored["attachments"] == []
    assert stored["editedBy"]["_id"] == alice.id


async def test_deleting_a_thread_parent_keeps_it_as_removed(srv, alice, bob):
    room = await alice.channel("thread-delete", ("bob",))
    parent = await alice.send(room["_id"], "parent")
    reply = await bob.send(room["_id"], "reply", tmid=parent["_id"])
    await alice.ok("POST", "chat.delete", roomId=room["_id"], msgId=parent["_id"])
    stored = (await bob.ok("GET", "chat.getMessage", msgId=parent["_id"]))["message"]
    assert stored["t"] == "rm" and stored["tcount"] == 1
    await bob.ok("POST", "chat.delete", roomId=room["_id"], msgId=reply["_id"])
    stored = (await bob.ok("GET", "chat.getMessage", msgId=parent["_id"]))["message"]
    assert stored["tcount"] == 0


async def test_read_only_room_blocks_member_deletes(srv, alice, bob):
    room = await alice.channel("ro-delete", ("bob",))
    msg = await bob.send(room["_id"], "before it went read-only")
    await alice.ok("POST", "channels.setReadOnly", roomId=room["_id"], readOnly=True)
    await settle(srv)
    body = await bob.fails("POST", "chat.delete", roomId=room["_id"], msgId=msg["_id"])
    assert body["errorType"] == "error-not-allowed"


async def test_internal_update_for_apps(srv, alice, events):
    room = await alice.channel("app-edits")
    msg = await alice.send(room["_id"], "poll: 0 votes", blocks=[{"type": "section", "text": "v0"}])
    edited = await srv.kernel.broker.call("messaging.update", alice.id, msg["_id"], {
        "blocks": [{"type": "section", "text": "v1"}], "attachments": [{"text": "tally"}]})
    assert edited["msg"] == "poll: 0 votes" and edited["blocks"] == [{"type": "section", "text": "v1"}]
    assert edited["attachments"] == [{"text": "tally"}] and edited["editedBy"]["_id"] == alice.id
    edited = await srv.kernel.broker.call("messaging.update", alice.id, msg["_id"], {"msg": "poll: 1 vote"})
    assert edited["msg"] == "poll: 1 vote" and edited["blocks"] == [{"type": "section", "text": "v1"}]
    updates = [e["message"]["msg"] for e in events.of("watch.messages") if e["clientAction"] == "updated"]
    assert updates[-2:] == ["poll: 0 votes", "poll: 1 vote"]
