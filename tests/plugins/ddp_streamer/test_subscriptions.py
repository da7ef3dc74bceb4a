"""Who may subscribe to which stream: each answered with its own `ready` or a `nosub` error."""
from __future__ import annotations

import asyncio

import pytest

from core import hookimpl
from tests.plugins.ddp_streamer.conftest import FAST, Directory, event_of, logged_in

OPTS = {"useCollection": False, "args": []}


def refused(reply: dict, code) -> bool:
    return reply["msg"] == "nosub" and reply["error"]["error"] == code


async def test_anonymous_reads_only_public_streams(srv):
    anon = await srv.ddp()
    assert (await anon.sub("stream-notify-all", "public-settings-changed", OPTS))["msg"] == "ready"
    assert (await anon.sub("stream-apps", "apps", OPTS))["msg"] == "ready"
    for name, event in [("stream-notify-logged", "user-status"), ("stream-notify-user", "x/message"),
                        ("stream-notify-room", "GENERAL/typing"), ("stream-room-messages", "GENERAL"),
                        ("stream-roles", "roles"), ("stream-user-presence", "")]:
        assert refused(await anon.sub(name, event, OPTS), "not-allowed"), name


async def test_logged_user_streams(srv, directory):
    alice, bob = directory.add("alice"), directory.add("bob")
    c = await logged_in(srv, alice)
    assert (await c.sub("stream-notify-logged", "user-status", False))["msg"] == "ready"
    assert (await c.sub("stream-roles", "roles", OPTS))["msg"] == "ready"
    assert (await c.sub("stream-notify-user", f"{alice.id}/rooms-changed", False))["msg"] == "ready"
    assert refused(await c.sub("stream-notify-user", f"{bob.id}/rooms-changed", False), "not-allowed")
    assert refused(await c.sub("stream-notify-user", alice.id, False), "not-allowed")
    assert refused(await c.sub("stream-notify-user", f"{alice.id}/", False), "not-allowed")


async def test_private_settings_changed_needs_a_settings_permission(srv, directory):
    user, admin = directory.add("user1"), directory.add("boss", roles=("admin",))
    assert refused(await (await logged_in(srv, user)).sub("stream-notify-logged", "private-settings-changed",
                                                          False), "not-allowed")
    assert (await (await logged_in(srv, admin)).sub("stream-notify-logged", "private-settings-changed",
                                                    False))["msg"] == "ready"


async def test_room_streams_need_room_access(srv, directory):
    alice = directory.add("alice")
    directory.allow(alice, "R1")
    c = await logged_in(srv, alice)
    assert (await c.sub("stream-room-messages", "R1", OPTS))["msg"] == "ready"
    assert (await c.sub("stream-notify-room", "R1/user-activity", OPTS))["msg"] == "ready"
    assert (await c.sub("stream-notify-room", "R1/deleteMessage", OPTS))["msg"] == "ready"
    assert refused(await c.sub("stream-room-messages", "R2", OPTS), "not-allowed")
    assert refused(await c.sub("stream-notify-room", "R2/typing", OPTS), "not-allowed")
    assert refused(await c.sub("stream-notify-room", "R1", OPTS), "not-allowed")
    assert refused(await c.sub("stream-room-messages", "R1/x", OPTS), "not-allowed")
    assert (await c.sub("stream-room-messages", "__my_messages__", True))["msg"] == "ready"


async def test_room_access_fails_closed_without_the_authorization_service(server_factory):
    directory = Directory(serve_access=False)
    srv = await server_factory(plugins=("settings", directory, "ddp_streamer"), env=dict(FAST))
    alice = directory.add("alice")
    c = await logged_in(srv, alice)
    assert refused(await c.sub("stream-room-messages", "R1", OPTS), "not-allowed")
    assert refused(await c.sub("stream-notify-room", "R1/typing", OPTS), "not-allowed")
    assert (await c.sub("stream-room-messages", "__my_messages__", OPTS))["msg"] == "ready"


async def test_unknown_stream_bad_params_and_unsub(srv, directory):
    c = await logged_in(srv, directory.add("alice"))
    assert refused(await c.sub("stream-nope", "x", False), 404)
    assert refused(await c.sub("stream-notify-logged", "", False), "invalid-event-name")
    assert refused(await c.sub("stream-notify-logged", 42, False), "invalid-event-name")
    assert refused(await c.sub("stream-notify-logged"), "invalid-event-name")
    assert refused(await c.sub("stream-notify-logged", "x" * 5000, False), "not-allowed")
    ready = await c.sub("stream-notify-logged", "user-status", False)
    await c.send({"msg": "unsub", "id": ready["_sub_id"]})
    assert (await c.expect(lambda m: m.get("msg") == "nosub" and m.get("id") == ready["_sub_id"])) \
        .get("error") is None
    assert srv.kernel.ddp.subscriber_count("stream-notify-logged", "user-status") == 0
    # the connection still works after all that
    assert (await c.call("login", {"resume": "nope"}))["error"]["error"] == "403"


class PublicSetting:
    name = "public_setting"

    @hookimpl
    def register_settings(self) -> list[dict]:
        return [{"_id": "Site_Name", "type": "string", "value": "OrbitChat", "public": True},
                {"_id": "Secret_Thing", "type": "string", "value": "s", "hidden": True}]


async def test_setting_changes_reach_the_right_streams(server_factory):
    directory = Directory()
    srv = await server_factory(plugins=("settings", PublicSetting(), directory, "ddp_streamer"), env=dict(FAST))
    admin = directory.add("boss", roles=("admin",))
    anon = await srv.ddp()
    await anon.sub("stream-notify-all", "public-settings-changed", OPTS)
    await anon.sub("stream-notify-all", "public-info", OPTS)
    boss = await logged_in(srv, admin)
    await boss.sub("stream-notify-logged", "private-settings-changed", False)

    await srv.kernel.broker.call("settings.set", "Site_Name", "Chez Nous")
    changed = await anon.expect(event_of("stream-notify-all", "public-settings-changed"))
    assert changed["fields"]["args"] == ["updated", {"_id": "Site_Name", "value": "Chez Nous"}]
    info = await anon.expect(event_of("stream-notify-all", "public-info"))
    assert info["fields"]["args"] == [["public-settings-changed", ["updated", {"_id": "Site_Name",
                                                                              "value": "Chez Nous"}]]]
    private = await boss.expect(event_of("stream-notify-logged", "private-settings-changed"))
    assert private["fields"]["args"][1]["_id"] == "Site_Name"

    await srv.kernel.broker.call("settings.set", "API_Default_Count", 25)   # not public
    private = await boss.expect(event_of("stream-notify-logged", "private-settings-changed"))
    assert private["fields"]["args"] == ["updated", {"_id": "API_Default_Count", "value": 25}]
    await srv.kernel.broker.emit("watch.settings", {"clientAction": "updated",
                                                    "setting": {"_id": "Secret_Thing", "value": "x", "public": True}})
    with pytest.raises(TimeoutError):
        await anon.expect(event_of("stream-notify-all"), timeout=0.3)
    with pytest.raises(TimeoutError):
        await boss.expect(event_of("stream-notify-logged"), timeout=0.1)


async def test_settings_plugin_no_longer_owns_a_stream(server_factory):
    srv = await server_factory(plugins=("settings",))
    assert "stream-notify-all" not in srv.kernel.ddp.streams
    srv2 = await server_factory(plugins=("settings", "ddp_streamer"))
    assert srv2.kernel.ddp.streams["stream-notify-all"].owner == "ddp_streamer"
    await asyncio.sleep(0)


async def test_two_subscriptions_to_one_event_stop_separately(srv, directory):
    c = await logged_in(srv, directory.add("alice"))
    first = await c.sub("stream-notify-logged", "user-status", False)
    second = await c.sub("stream-notify-logged", "user-status", OPTS)
    assert first["msg"] == second["msg"] == "ready"
    await c.send({"msg": "unsub", "id": first["_sub_id"]})
    await c.expect(lambda m: m.get("msg") == "nosub" and m.get("id") == first["_sub_id"])
    await srv.kernel.broker.emit("presence.status", {"user": {"_id": "u1", "username": "x", "status": "online"}})
    assert (await c.expect(event_of("stream-notify-logged", "user-status")))["fields"]["args"][0][:3] == \
        ["u1", "x", 1]
    await c.send({"msg": "unsub", "id": second["_sub_id"]})
    await c.expect(lambda m: m.get("msg") == "nosub" and m.get("id") == second["_sub_id"])
    assert srv.kernel.ddp.subscriber_count("stream-notify-logged", "user-status") == 0
