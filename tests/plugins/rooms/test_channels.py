"""channels.*: create, info, list, join, leave, invite, kick, members, roles, over real HTTP."""
from __future__ import annotations

import pytest

from tests.plugins.rooms.conftest import settle


async def make_channel(owner, name="general2", **extra):
    return (await owner.ok("POST", "channels.create", name=name, **extra))["channel"]


async def test_create_channel_in_rocket_chat_shape(srv, alice, bob):
    ch = await make_channel(alice, "team-room", members=["bob"])
    assert ch["t"] == "c" and ch["name"] == "team-room" and ch["fname"] == "team-room"
    assert ch["u"] == {"_id": alice.id, "username": "alice", "name": "Alice Liddell"}
    assert ch["msgs"] == 0 and ch["usersCount"] == 2 and ch["ro"] is False
    assert ch["ts"].endswith("Z") and "_updatedAt" in ch
    mine = (await alice.ok("GET", "subscriptions.getOne", roomId=ch["_id"]))["subscription"]
    assert mine["roles"] == ["owner"] and mine["open"] is True and mine["t"] == "c"
    assert mine["u"]["_id"] == alice.id and mine["name"] == "team-room" and "ls" in mine
    theirs = (await bob.ok("GET", "subscriptions.getOne", roomId=ch["_id"]))["subscription"]
    assert "roles" not in theirs and theirs["unread"] == 0 and theirs["alert"] is False


async def test_create_read_only_and_exclude_self(srv, alice, bob):
    ch = await make_channel(alice, "announcements", members=["bob"], readOnly=True, excludeSelf=True)
    assert ch["ro"] is True and ch["usersCount"] == 1
    assert (await alice.ok("GET", "subscriptions.getOne", roomId=ch["_id"]))["subscription"] is None
    broadcast = await make_channel(alice, "news", extraData={"broadcast": True})
    assert broadcast["broadcast"] is True and broadcast["ro"] is True


async def test_unknown_members_are_skipped(srv, alice):
    ch = await make_channel(alice, "lonely", members=["nobody-here"])
    assert ch["usersCount"] == 1


@pytest.mark.parametrize("name", ["has space", "bad/slash", "é-accent", "all", "x" * 101])
async def test_invalid_room_names_are_refused(srv, alice, name):
    r = await alice.post("channels.create", name=name)
    assert r.status_code == 400
    assert r.json()["errorType"] == "error-invalid-room-name"


async def test_name_validation_follows_the_setting(server_factory):
    from tests.plugins.rooms.conftest import PLUGINS, Caller
    from tests.users import create_user
    srv = await server_factory(plugins=PLUGINS, env={"OVERWRITE_SETTING_UTF8_Channel_Names_Validation": "[a-z]+"})
    alice = Caller(srv, await create_user(srv, "alice"))
    assert (await alice.post("channels.create", name="Upper")).json()["errorType"] == "error-invalid-room-name"
    await alice.ok("POST", "channels.create", name="lower")


async def test_duplicate_names_across_channels_and_groups(srv, alice, bob):
    await make_channel(alice, "dupe")
    for path in ("channels.create", "groups.create"):
        r = await bob.post(path, name="dupe")
        assert r.status_code == 400
        body = r.json()
        assert body["errorType"] == "error-duplicate-channel-name"
        assert body["error"] == "A channel with name 'dupe' exists [error-duplicate-channel-name]"


async def test_info_by_id_and_name_and_not_found(srv, alice):
    ch = await make_channel(alice, "info-room")
    by_id = (await alice.ok("GET", "channels.info", roomId=ch["_id"]))["channel"]
    by_name = (await alice.ok("GET", "channels.info", roomName="info-room"))["channel"]
    assert by_id["_id"] == by_name["_id"] == ch["_id"]
    r = await alice.get("channels.info", roomId="nope")
    assert r.status_code == 400 and r.json()["errorType"] == "error-room-not-found"
    r = await alice.get("channels.info")
    assert r.json()["errorType"] == "error-roomid-param-not-provided"
    group = (await alice.ok("POST", "groups.create", name="secret"))["group"]
    r = await alice.get("channels.info", roomId=group["_id"])
    assert r.json()["errorType"] == "error-room-not-found"


async def test_join_code_is_never_published(srv, alice, bob):
    ch = await make_channel(alice, "coded")
    await alice.ok("POST", "channels.setJoinCode", roomId=ch["_id"], joinCode="s3cret")
    info = (await bob.ok("GET", "channels.info", roomId=ch["_id"]))["channel"]
    assert info["joinCodeRequired"] is True and "joinCode" not in info
    r = await bob.post("channels.join", roomId=ch["_id"], joinCode="wrong")
    assert r.json()["errorType"] == "error-code-invalid"
    await bob.ok("POST", "channels.join", roomId=ch["_id"], joinCode="s3cret")


async def test_list_and_list_joined_paginate(srv, alice, bob):
    for i in range(5):
        await make_channel(alice, f"room-{i}")
    await make_channel(bob, "bobs-room")
    body = await alice.ok("GET", "channels.list", count=2, offset=0)
    assert body["count"] == 2 and body["total"] == 6 and body["offset"] == 0
    assert [c["name"] for c in body["channels"]] == ["bobs-room", "room-0"]
    body = await alice.ok("GET", "channels.list", count=50, offset=4)
    assert [c["name"] for c in body["channels"]] == ["room-3", "room-4"]
    joined = await alice.ok("GET", "channels.list.joined", count=50, offset=0)
    assert joined["total"] == 5 and all(c["name"].startswith("room-") for c in joined["channels"])
    srt = await alice.ok("GET", "channels.list", sort='{"name":-1}', count=1)
    assert srt["channels"][0]["name"] == "room-4"
    flt = await alice.ok("GET", "channels.list", query='{"name":"room-2"}')
    assert [c["name"] for c in flt["channels"]] == ["room-2"]


async def test_join_and_leave(srv, alice, bob, events):
    ch = await make_channel(alice, "lobby")
    body = await bob.ok("POST", "channels.join", roomId=ch["_id"])
    assert body["channel"]["usersCount"] == 2
    sub = (await bob.ok("GET", "subscriptions.getOne", roomId=ch["_id"]))["subscription"]
    assert sub["open"] is True and sub["alert"] is True and sub["unread"] == 1
    await bob.ok("POST", "channels.join", roomName="lobby")   # joining twice is harmless
    left = await bob.ok("POST", "channels.leave", roomId=ch["_id"])
    assert left["channel"]["usersCount"] == 1
    assert (await bob.ok("GET", "subscriptions.getOne", roomId=ch["_id"]))["subscription"] is None
    r = await bob.post("channels.leave", roomId=ch["_id"])
    assert r.json()["errorType"] == "error-user-not-in-room"
    await settle(srv)
    actions = [(e["clientAction"], e["subscription"]["u"]["_id"]) for e in events.of("watch.subscriptions")]
    assert ("inserted", bob.id) in actions and ("removed", bob.id) in actions


async def test_last_owner_cannot_leave(srv, alice, bob):
    ch = await make_channel(alice, "owned", members=["bob"])
    r = await alice.post("channels.leave", roomId=ch["_id"])
    assert r.status_code == 400 and r.json()["errorType"] == "error-you-are-last-owner"
    await alice.ok("POST", "channels.addOwner", roomId=ch["_id"], userId=bob.id)
    await alice.ok("POST", "channels.leave", roomId=ch["_id"])


async def test_invite_and_kick(srv, alice, bob, carol, events):
    ch = await make_channel(alice, "crew")
    body = await alice.ok("POST", "channels.invite", roomId=ch["_id"], userIds=[bob.id], username="carol")
    assert body["channel"]["usersCount"] == 3
    r = await alice.post("channels.invite", roomId=ch["_id"])
    assert r.status_code == 400 and r.json()["error"] == "invalid-user-invite-list"
    r = await alice.post("channels.invite", roomId=ch["_id"], username="ghost")
    assert r.json()["errorType"] == "error-user-not-found"
    await alice.ok("POST", "channels.invite", roomId=ch["_id"], username="bob")   # already in: a notice only
    await settle(srv)
    assert events.of("notify.ephemeralMessage")[0]["uid"] == alice.id
    kicked = await alice.ok("POST", "channels.kick", roomId=ch["_id"], username="bob")
    assert kicked["channel"]["usersCount"] == 2
    r = await alice.post("channels.kick", roomId=ch["_id"], userId=bob.id)
    assert r.json()["errorType"] == "error-user-not-in-room"
    r = await alice.post("channels.kick", roomId=ch["_id"])
    assert r.json()["errorType"] == "error-user-param-not-provided"


async def test_members_paginated_with_user_documents(srv, alice, bob, carol):
    ch = await make_channel(alice, "many", members=["bob", "carol"])
    page = await alice.ok("GET", "channels.members", roomId=ch["_id"], count=2, offset=0)
    assert page["total"] == 3 and page["count"] == 2
    assert [m["username"] for m in page["members"]] == ["alice", "bob"]
    assert set(page["members"][0]) >= {"_id", "username", "name", "status"}
    assert "services" not in page["members"][0] and "emails" not in page["members"][0]
    rest = await alice.ok("GET", "channels.members", roomId=ch["_id"], count=2, offset=2)
    assert [m["username"] for m in rest["members"]] == ["carol"]
    found = await alice.ok("GET", "channels.members", roomId=ch["_id"], filter="CAR")
    assert [m["username"] for m in found["members"]] == ["carol"]
    desc = await alice.ok("GET", "channels.members", roomId=ch["_id"], sort='{"username":-1}')
    assert [m["username"] for m in desc["members"]] == ["carol", "bob", "alice"]


async def test_room_roles(srv, alice, bob, carol, events):
    ch = await make_channel(alice, "ranks", members=["bob", "carol"])
    rid = ch["_id"]
    await alice.ok("POST", "channels.addModerator", roomId=rid, userId=bob.id)
    await alice.ok("POST", "channels.addLeader", roomId=rid, username="carol")
    await alice.ok("POST", "channels.addOwner", roomId=rid, userId=carol.id)
    roles = (await bob.ok("GET", "channels.roles", roomId=rid))["roles"]
    assert [(r["u"]["username"], sorted(r["roles"])) for r in roles] == [
        ("alice", ["owner"]), ("bob", ["moderator"]), ("carol", ["leader", "owner"])]
    assert roles[0]["rid"] == rid
    mods = (await bob.ok("GET", "channels.moderators", roomId=rid))["moderators"]
    assert [m["username"] for m in mods] == ["bob"]
    r = await alice.post("channels.addModerator", roomId=rid, userId=bob.id)
    assert r.json()["errorType"] == "error-user-already-moderator"
    await alice.ok("POST", "channels.removeModerator", roomId=rid, userId=bob.id)
    r = await alice.post("channels.removeLeader", roomId=rid, userId=bob.id)
    assert r.json()["errorType"] == "error-user-not-leader"
    await alice.ok("POST", "channels.removeOwner", roomId=rid, userId=carol.id)
    r = await alice.post("channels.removeOwner", roomId=rid, userId=alice.id)
    assert r.json()["errorType"] == "error-remove-last-owner"
    await settle(srv)
    updates = [(e["type"], e["_id"], e["u"]["username"], e["scope"]) for e in events.of("user.roleUpdate")]
    assert ("added", "moderator", "bob", rid) in updates and ("removed", "owner", "carol", rid) in updates


async def test_promoted_moderator_gains_room_scoped_permissions(srv, alice, bob, carol):
    ch = await make_channel(alice, "promote", members=["bob"])
    r = await bob.post("channels.invite", roomId=ch["_id"], username="carol")
    assert r.status_code == 400 and r.json()["errorType"] == "error-not-allowed"
    await alice.ok("POST", "channels.addModerator", roomId=ch["_id"], userId=bob.id)
    await bob.ok("POST", "channels.invite", roomId=ch["_id"], username="carol")
    await bob.ok("POST", "channels.setTopic", roomId=ch["_id"], topic="moderated")
    r = await bob.post("channels.addOwner", roomId=ch["_id"], userId=carol.id)   # set-owner: owners only
    assert r.status_code == 400 and r.json()["errorType"] == "error-not-allowed"


async def test_counters(srv, alice, bob, admin):
    ch = await make_channel(alice, "counted", members=["bob"])
    body = await bob.ok("GET", "channels.counters", roomId=ch["_id"])
    assert body["joined"] is True and body["members"] == 2 and body["msgs"] == 0
    assert body["unreads"] == 0 and body["userMentions"] == 0
    r = await bob.get("channels.counters", roomId=ch["_id"], userId=alice.id)
    assert r.status_code == 403
    body = await admin.ok("GET", "channels.counters", roomId=ch["_id"], userId=alice.id)
    assert body["joined"] is True and body["members"] == 2


async def test_open_and_close(srv, alice):
    ch = await make_channel(alice, "openclose")
    r = await alice.post("channels.open", roomId=ch["_id"])
    assert r.status_code == 400 and "already open" in r.json()["error"]
    await alice.ok("POST", "channels.close", roomId=ch["_id"])
    assert (await alice.ok("GET", "subscriptions.getOne", roomId=ch["_id"]))["subscription"]["open"] is False
    await alice.ok("POST", "channels.open", roomId=ch["_id"])


async def test_members_filtered_by_text_and_status(srv, alice, bob, carol):
    """Matched on username or name, case-insensitively; inactive users never listed; paged after filtering."""
    ch = await make_channel(alice, "filtered", members=["bob", "carol"])
    users = srv.kernel.db["users"]
    await users.update_one({"_id": bob.id}, {"$set": {"status": "away", "name": "Bob Carpenter"}})
    await users.update_one({"_id": alice.id}, {"$set": {"status": "online"}})
    await users.update_one({"_id": carol.id}, {"$set": {"status": "online"}})
    by_text = await alice.ok("GET", "channels.members", roomId=ch["_id"], filter="car")
    assert [m["username"] for m in by_text["members"]] == ["bob", "carol"] and by_text["total"] == 2
    page = await alice.ok("GET", "channels.members", roomId=ch["_id"], filter="car", count=1, offset=1)
    assert [m["username"] for m in page["members"]] == ["carol"] and page["total"] == 2
    online = await alice.ok("GET", "channels.members", roomId=ch["_id"], status=["online"], sort='{"username":-1}')
    assert [m["username"] for m in online["members"]] == ["carol", "alice"]
    await users.update_one({"_id": carol.id}, {"$set": {"active": False}})
    assert [m["username"] for m in (await alice.ok("GET", "channels.members", roomId=ch["_id"],
                                                   filter="car"))["members"]] == ["bob"]
