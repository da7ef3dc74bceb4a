"""Every message hook is called, and its answer honoured, as an app's would be: prevent, extend, modify, post
for sent / updated / deleted messages."""
from __future__ import annotations

from typing import Any

import pytest

from core import hookimpl
from tests.plugins.messaging.conftest import caller, make_server, settle


class Policy:
    """A plugin implementing every message hook: refuses, extends, rewrites and records."""

    name = "policy"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    async def pre_message_sent_prevent(self, message: dict, room: dict, ctx: Any) -> Any:
        self.calls.append(("pre_message_sent_prevent", message["msg"]))
        return "no swearing" if "forbidden" in message["msg"] else None

    @hookimpl
    async def pre_message_sent_extend(self, message: dict, room: dict, ctx: Any) -> dict:
        self.calls.append(("pre_message_sent_extend", message["msg"]))
        message["msg"] = "extend may not change the text"
        return {"attachments": [{"text": f"posted in {room['name']}"}], "customFields": {"checked": True},
                "msg": "ignored"}

    @hookimpl
    async def pre_message_sent_modify(self, message: dict, room: dict, ctx: Any) -> dict:
        self.calls.append(("pre_message_sent_modify", message.get("attachments")))
        message["msg"] = message["msg"].replace("darn", "d**n") + " @bob"
        message.update(u={"_id": "someone-else", "username": "mallory"}, pinned=True, rid="elsewhere")
        return message

    @hookimpl
    async def post_message_sent(self, message: dict, room: dict, ctx: Any) -> None:
        self.calls.append(("post_message_sent", (message["_id"], message.get("t"), ctx.user_id)))

    @hookimpl
    async def pre_message_updated_prevent(self, message: dict, previous: dict, room: dict, ctx: Any) -> Any:
        self.calls.append(("pre_message_updated_prevent", (message["msg"], previous["msg"])))
        return "frozen" if "forbidden" in message["msg"] else None

    @hookimpl
    async def pre_message_updated_extend(self, message: dict, previous: dict, room: dict, ctx: Any) -> dict:
        self.calls.append(("pre_message_updated_extend", message["msg"]))
        return {"customFields": {"edits": 1}}

    @hookimpl
    async def pre_message_updated_modify(self, message: dict, previous: dict, room: dict, ctx: Any) -> dict:
        self.calls.append(("pre_message_updated_modify", message.get("customFields")))
        message["msg"] = message["msg"].upper()
        message["editedBy"] = {"_id": "forged", "username": "forged"}
        return message

    @hookimpl
    async def post_message_updated(self, message: dict, previous: dict, room: dict, ctx: Any) -> None:
        self.calls.append(("post_message_updated", (message["msg"], previous["msg"])))

    @hookimpl
    async def pre_message_deleted_prevent(self, message: dict, room: dict, ctx: Any) -> Any:
        self.calls.append(("pre_message_deleted_prevent", message["_id"]))
        return "keep" in message["msg"].lower()

    @hookimpl
    async def post_message_deleted(self, message: dict, room: dict, ctx: Any) -> None:
        self.calls.append(("post_message_deleted", message["_id"]))

    def called(self, hook: str) -> list[Any]:
        return [arg for name, arg in self.calls if name == hook]


class Broken:
    """Raises in every prevent hook: isolated by the hook runner, never failing the send."""

    name = "broken"

    @hookimpl
    async def pre_message_sent_prevent(self, message: dict, room: dict, ctx: Any) -> Any:
        raise RuntimeError("bug in a plugin")


@pytest.fixture
async def setup(server_factory):
    policy = Policy()
    srv = await make_server(server_factory, policy, Broken())
    alice = await caller(srv, "alice")
    bob = await caller(srv, "bob")
    room = await alice.channel("hooked", ("bob",))
    return srv, policy, alice, bob, room


async def test_hook_pre_message_sent_prevent(setup):
    srv, policy, alice, _, room = setup
    body = await alice.fails("POST", "chat.sendMessage", {"message": {"rid": room["_id"], "msg": "a forbidden word"}})
    assert body["errorType"] == "error-app-prevented" and body["details"] == {"reason": "no swearing"}
    assert policy.called("pre_message_sent_prevent") == ["a forbidden word"]
    assert policy.called("pre_message_sent_extend") == []
    assert await srv.kernel.db["rocketchat_message"].count_documents({"rid": room["_id"], "t": None}) == 0
    ddp = await alice.ddp()
    reply = await ddp.call("sendMessage", {"rid": room["_id"], "msg": "forbidden again"})
    assert reply["error"]["error"] == "error-app-prevented"


async def test_hook_pre_message_sent_extend(setup):
    _, policy, alice, _, room = setup
    msg = await alice.send(room["_id"], "hello", attachments=[{"text": "mine"}])
    assert msg["attachments"] == [{"text": "mine"}, {"text": "posted in hooked"}]
    assert msg["customFields"] == {"checked": True}
    assert policy.called("pre_message_sent_extend") == ["hello"]


async def test_hook_pre_message_sent_modify(setup):
    _, policy, alice, bob, room = setup
    msg = await alice.send(room["_id"], "darn it")
    assert msg["msg"] == "d**n it @bob"
    assert msg["u"]["_id"] == alice.id and msg["rid"] == room["_id"] and "pinned" not in msg
    # mentions are parsed after the hooks, from the final text
    assert [m["_id"] for m in msg["mentions"]] == [bob.id]
    # modify sees what extend added
    assert policy.called("pre_message_sent_modify") == [[{"text": "posted in hooked"}]]


async def test_hook_post_message_sent(setup):
    srv, policy, alice, _, room = setup
    msg = await alice.send(room["_id"], "after commit")
    await settle(srv)
    assert (msg["_id"], None, alice.id) in policy.called("post_message_sent")
    system = await srv.kernel.broker.call("messaging.system_message", room["_id"], "uj",
                                          {"_id": alice.id, "username": "alice"})
    await settle(srv)
    assert (system["_id"], "uj", alice.id) in policy.called("post_message_sent")


async def test_hook_pre_message_updated_prevent(setup):
    _, policy, alice, _, room = setup
    assert policy.called("pre_message_updated_prevent") == []
    msg = await alice.send(room["_id"], "original")
    body = await alice.fails("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="forbidden edit")
    assert body["errorType"] == "error-app-prevented-updating"
    stored = (await alice.ok("GET", "chat.getMessage", msgId=msg["_id"]))["message"]
    assert stored["msg"] == msg["msg"] and "editedAt" not in stored
    assert policy.called("pre_message_updated_prevent") == [("forbidden edit", msg["msg"])]


async def test_hook_pre_message_updated_extend(setup):
    _, policy, alice, _, room = setup
    msg = await alice.send(room["_id"], "original")
    edited = (await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="new text"))["message"]
    assert edited["customFields"] == {"checked": True, "edits": 1}
    assert policy.called("pre_message_updated_extend") == ["new text"]


async def test_hook_pre_message_updated_modify(setup):
    _, policy, alice, _, room = setup
    msg = await alice.send(room["_id"], "original")
    edited = (await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="new text"))["message"]
    assert edited["msg"] == "NEW TEXT"
    assert edited["editedBy"] == {"_id": alice.id, "username": "alice"}      # the forged editor is not kept
    assert policy.called("pre_message_updated_modify") == [{"checked": True, "edits": 1}]   # after extend


async def test_hook_post_message_updated(setup):
    srv, policy, alice, _, room = setup
    msg = await alice.send(room["_id"], "v1")
    await alice.ok("POST", "chat.update", roomId=room["_id"], msgId=msg["_id"], text="v2")
    await settle(srv)
    assert policy.called("post_message_updated") == [("V2", msg["msg"])]


async def test_hook_pre_message_deleted_prevent(setup):
    srv, policy, alice, _, room = setup
    msg = await alice.send(room["_id"], "please keep me")
    body = await alice.fails("POST", "chat.delete", roomId=room["_id"], msgId=msg["_id"])
    assert body["errorType"] == "error-app-prevented-deleting"
    assert await srv.kernel.db["rocketchat_message"].find_one({"_id": msg["_id"]}) is not None
    assert policy.called("pre_message_deleted_prevent") == [msg["_id"]]


async def test_hook_post_message_deleted(setup):
    srv, policy, alice, _, room = setup
    msg = await alice.send(room["_id"], "short-lived")
    await alice.ok("POST", "chat.delete", roomId=room["_id"], msgId=msg["_id"])
    await settle(srv)
    assert policy.called("post_message_deleted") == [msg["_id"]]


async def test_internal_send_runs_the_same_pipeline(setup):
    srv, policy, alice, _, room = setup
    sent = await srv.kernel.broker.call("messaging.send", alice.id, {"rid": room["_id"], "msg": "via broker"})
    assert sent["customFields"] == {"checked": True} and sent["msg"].endswith("@bob")
    assert "via broker" in policy.called("pre_message_sent_prevent")


def test_every_message_hookspec_has_a_test():
    import inspect

    from core.hookspecs import messages

    specs = {name for name, fn in inspect.getmembers(messages, inspect.isfunction)
             if name.startswith(("pre_message_", "post_message_"))}
    assert len(specs) == 10
    assert {f"test_hook_{name}" for name in specs} <= {n for n in globals() if n.startswith("test_hook_")}
