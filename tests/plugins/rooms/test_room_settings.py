"""Room settings over REST: rename, topic, description, announcement, purpose, type, read-only, archive,
delete; with the system messages they ask the messaging service for."""
from __future__ import annotations

from typing import Any

import pytest

from core import hookimpl
from tests.plugins.rooms.conftest import PLUGINS, Caller, settle
from tests.users import create_user


class FakeMessaging:
    """Stands in for the messaging service: records system messages and room deletions."""

    name = "fake_messaging"

    def __init__(self) -> None:
        self.system: list[tuple] = []
        self.deleted: list[str] = []

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        await api.broker.register("messaging.system_message", self.system_message)
        await api.broker.register("messaging.delete_room_messages", self.delete_room_messages)

    async def system_message(self, rid: str, t: str, user: dict, msg: str = "", extra: dict | None = None) -> dict:
        self.system.append((rid, t, user["username"], msg, extra))
        return {"_id": "m", "rid": rid, "t": t}

    async def delete_room_messages(self, rid: str) -> int:
        self.deleted.append(rid)
        return 0

    def kinds(self, rid: str) -> list[str]:
        return [t for r, t, *_ in self.system if r == rid]


@pytest.fixture
async def env(server_factory):
    messaging = FakeMessaging()
    srv = await server_factory(plugins=(*PLUGINS, messaging), env={"ORBITCHAT_BCRYPT_ROUNDS": "4"})
    alice = Caller(srv, await create_user(srv, "alice", name="Alice"))
    bob = Caller(srv, await create_user(srv, "bob"))
    room = (await alice.ok("POST", "channels.create", name="settings-room", members=["bob"]))["channel"]
    return srv, messaging, alice, bob, room


async def test_system_messages_for_membership(env):
    srv, messaging, alice, bob, room = env
    carol = Caller(srv, await create_user(srv, "carol"))
    await carol.ok("POST", "channels.join", roomId=room["_id"])
    await carol.ok("POST", "channels.leave", roomId=room["_id"])
    await alice.ok("POST", "channels.kick", roomId=room["_id"], userId=bob.id)
    await alice.ok("POST", "channels.invite", roomId=room["_id"], userId=bob.id)
    await alice.ok("POST", "channels.addModerator", roomId=room["_id"], userId=bob.id)
    assert messaging.kinds(room["_id"]) == ["uj", "ul", "ru", "au", "subscription-role-added"]
    ru = next(m for m in messaging.system if m[1] == "ru")
    assert ru[2] == "alice" and ru[3] == "bob"   # sent as the remover, about the removed user
    assert messaging.system[-1][4] == {"role": "moderator"}


async def test_rename(env):
    _srv, messaging, alice, bob, room = env
    body = await alice.ok("POST", "channels.rename", roomId=room["_id"], name="renamed")
    assert body["channel"]["name"] == "renamed" and body["channel"]["fname"] == "renamed"
    sub = (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert sub["name"] == "renamed" and sub["fname"] == "renamed"
    r = await alice.post("channels.rename", roomId=room["_id"], name="renamed")
    assert r.status_code == 400 and "same as what it would be renamed to" in r.json()["error"]
    r = await alice.post("channels.rename", roomId=room["_id"], name="bad name")
    assert r.json()["errorType"] == "error-invalid-room-name"
    await alice.ok("POST", "channels.create", name="taken")
    r = await alice.post("channels.rename", roomId=room["_id"], name="taken")
    assert r.json()["errorType"] == "error-duplicate-channel-name"
    r = await bob.post("channels.rename", roomId=room["_id"], name="bobs")
    assert r.status_code == 400 and r.json()["errorType"] == "error-action-not-allowed"
    assert messaging.kinds(room["_id"]) == ["r"]


async def test_topic_description_announcement_purpose(env):
    _srv, messaging, alice, bob, room = env
    rid = room["_id"]
    assert (await alice.ok("POST", "channels.setTopic", roomId=rid, topic="Topic!"))["topic"] == "Topic!"
    r = await alice.post("channels.setTopic", roomId=rid, topic="Topic!")
    assert r.status_code == 400 and "topic is the same" in r.json()["error"]
    assert (await alice.ok("POST", "channels.setDescription", roomId=rid, description="D"))["description"] == "D"
    assert (await alice.ok("POST", "channels.setPurpose", roomId=rid, purpose="P"))["purpose"] == "P"
    await alice.ok("POST", "channels.setAnnouncement", roomId=rid, announcement="Hear ye")
    info = (await bob.ok("GET", "channels.info", roomId=rid))["channel"]
    assert (info["topic"], info["description"], info["announcement"]) == ("Topic!", "P", "Hear ye")
    assert messaging.kinds(rid) == ["room_changed_topic", "room_changed_description", "room_changed_description",
                                    "room_changed_announcement"]
    r = await bob.post("channels.setTopic", roomId=rid, topic="mine")
    assert r.json()["errorType"] == "error-action-not-allowed"
    r = await alice.post("channels.setTopic", roomId=rid)
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"


async def test_read_only(env):
    srv, messaging, alice, bob, room = env
    body = await alice.ok("POST", "channels.setReadOnly", roomId=room["_id"], readOnly=True)
    assert body["channel"]["ro"] is True
    r = await alice.post("channels.setReadOnly", roomId=room["_id"], readOnly=True)
    assert r.status_code == 400
    r = await bob.post("channels.setReadOnly", roomId=room["_id"], readOnly=False)
    assert r.json()["errorType"] == "error-action-not-allowed"
    assert messaging.kinds(room["_id"]) == ["room-set-read-only"]
    # The flag is what messaging reads to refuse posts from members without post-readonly.
    stored = await srv.kernel.broker.call("rooms.get", room["_id"])
    assert stored["ro"] is True


async def test_set_type(env):
    _srv, messaging, alice, bob, room = env
    body = await alice.ok("POST", "channels.setType", roomId=room["_id"], type="p")
    assert body["channel"]["t"] == "p"
    assert (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]["t"] == "p"
    assert (await bob.ok("GET", "groups.info", roomId=room["_id"]))["group"]["t"] == "p"
    r = await alice.post("channels.info", roomId=room["_id"])
    assert r.status_code == 405
    r = await alice.get("channels.info", roomId=room["_id"])
    assert r.json()["errorType"] == "error-room-not-found"
    await alice.ok("POST", "groups.setType", roomId=room["_id"], type="c")
    assert messaging.kinds(room["_id"]) == ["room_changed_privacy", "room_changed_privacy"]


async def test_archive_and_unarchive(env):
    srv, messaging, alice, bob, room = env
    rid = room["_id"]
    r = await bob.post("channels.archive", roomId=rid)
    assert r.status_code == 400 and r.json()["errorType"] == "error-not-authorized"
    await alice.ok("POST", "channels.archive", roomId=rid)
    sub = (await bob.ok("GET", "subscriptions.getOne", roomId=rid))["subscription"]
    assert sub["archived"] is True and sub["open"] is False
    info = (await bob.ok("GET", "channels.info", roomId=rid))["channel"]   # reading still works
    assert info["archived"] is True
    carol = Caller(srv, await create_user(srv, "carol"))
    for caller, path, body in [(carol, "channels.join", {}), (alice, "channels.setTopic", {"topic": "x"}),
                               (alice, "channels.invite", {"username": "carol"}),
                               (alice, "channels.archive", {}), (bob, "channels.leave", {})]:
        r = await caller.post(path, roomId=rid, **body)
        assert r.status_code == 400 and r.json()["errorType"] == "error-room-archived", path
        assert r.json()["error"] == "The channel, settings-room, is archived [error-room-archived]"
    r = await alice.post("channels.unarchive", roomId=rid)   # unarchive-room is an admin permission
    assert r.json()["errorType"] == "error-not-authorized"
    admin = Caller(srv, await create_user(srv, "root", roles=("admin",)))
    await admin.ok("POST", "channels.unarchive", roomId=rid)
    r = await admin.post("channels.unarchive", roomId=rid)
    assert r.status_code == 400 and "is not archived" in r.json()["error"]
    assert (await bob.ok("GET", "subscriptions.getOne", roomId=rid))["subscription"]["archived"] is False
    assert messaging.kinds(rid) == ["room-archived", "room-unarchived"]


async def test_delete(env):
    srv, messaging, alice, bob, room = env
    r = await bob.post("channels.delete", roomId=room["_id"])
    assert r.status_code == 400 and r.json()["errorType"] == "error-not-allowed"
    await alice.ok("POST", "channels.delete", roomId=room["_id"])
    assert messaging.deleted == [room["_id"]]
    r = await alice.get("channels.info", roomId=room["_id"])
    assert r.json()["errorType"] == "error-room-not-found"
    assert (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"] is None
    assert await srv.kernel.db["rocketchat_subscription"].count_documents({"rid": room["_id"]}) == 0


async def test_save_room_settings_rest(env):
    _srv, _messaging, alice, _bob, room = env
    body = await alice.ok("POST", "rooms.saveRoomSettings", rid=room["_id"], roomTopic="t1",
                          roomDescription="d1", readOnly=True, systemMessages=["uj"])
    assert body["rid"] == room["_id"]
    info = (await alice.ok("GET", "rooms.info", roomId=room["_id"]))["room"]
    assert (info["topic"], info["description"], info["ro"], info["sysMes"]) == ("t1", "d1", True, ["uj"])
    r = await alice.post("rooms.saveRoomSettings", rid=room["_id"], default=True)   # admin-only setting
    assert r.json()["errorType"] == "error-action-not-allowed"
    r = await alice.post("rooms.saveRoomSettings", rid=room["_id"], roomName={"$ne": None})
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"
    r = await alice.post("rooms.saveRoomSettings", rid=room["_id"], u={"_id": "x"})
    assert r.status_code == 400


async def test_without_messaging_room_operations_still_work(srv, alice, bob):
    room = (await alice.ok("POST", "channels.create", name="quiet"))["channel"]
    await bob.ok("POST", "channels.join", roomId=room["_id"])
    await alice.ok("POST", "channels.setTopic", roomId=room["_id"], topic="no messaging here")
    await alice.ok("POST", "channels.delete", roomId=room["_id"])
    await settle(srv)
