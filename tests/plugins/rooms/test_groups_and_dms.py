"""groups.* (private groups) and im.* / dm.* (direct messages)."""
from __future__ import annotations

from tests.plugins.rooms.conftest import Caller
from tests.users import create_user


async def test_private_group_is_invisible_to_outsiders(srv, alice, bob, carol):
    group = (await alice.ok("POST", "groups.create", name="inner", members=["bob"]))["group"]
    assert group["t"] == "p" and group["usersCount"] == 2
    assert (await bob.ok("GET", "groups.info", roomId=group["_id"]))["group"]["name"] == "inner"
    for path, params in [("groups.info", {"roomId": group["_id"]}), ("groups.members", {"roomName": "inner"}),
                         ("groups.roles", {"roomId": group["_id"]})]:
        r = await carol.get(path, **params)
        assert r.status_code == 400 and r.json()["errorType"] == "error-room-not-found", path
    r = await carol.post("channels.join", roomId=group["_id"])
    assert r.json()["errorType"] == "error-room-not-found"
    r = await carol.post("rooms.leave", roomId=group["_id"])
    assert r.json()["errorType"] == "error-not-allowed"
    listed = await carol.ok("GET", "groups.list")
    assert listed["groups"] == [] and listed["total"] == 0
    assert [g["name"] for g in (await bob.ok("GET", "groups.list"))["groups"]] == ["inner"]
    all_public = await carol.ok("GET", "channels.list")
    assert all_public["total"] == 0
    assert (await carol.get("groups.listAll")).status_code == 403


async def test_groups_list_all_for_administrators(srv, alice, admin):
    await alice.ok("POST", "groups.create", name="hidden-one")
    listed = await admin.ok("GET", "groups.listAll")
    assert [g["name"] for g in listed["groups"]] == ["hidden-one"] and listed["total"] == 1


async def test_group_invite_leave_kick(srv, alice, bob, carol):
    group = (await alice.ok("POST", "groups.create", name="squad"))["group"]
    body = await alice.ok("POST", "groups.invite", roomId=group["_id"], usernames=["bob", "carol"])
    assert body["group"]["usersCount"] == 3
    r = await bob.post("groups.invite", roomName="squad", username="carol")   # no add-user-to-joined-room
    assert r.json()["errorType"] == "error-not-allowed"
    assert await bob.ok("POST", "groups.leave", roomId=group["_id"]) == {"success": True}
    assert await alice.ok("POST", "groups.kick", roomId=group["_id"], username="carol") == {"success": True}
    members = await alice.ok("GET", "groups.members", roomId=group["_id"])
    assert [m["username"] for m in members["members"]] == ["alice"]


async def test_group_create_needs_create_p(server_factory):
    from tests.plugins.rooms.conftest import PLUGINS
    srv = await server_factory(plugins=PLUGINS, env={"ORBITCHAT_BCRYPT_ROUNDS": "4"})
    guest = Caller(srv, await create_user(srv, "visitor", roles=("guest",)))
    for path in ("groups.create", "channels.create"):
        r = await guest.post(path, name="nope")
        assert r.status_code == 403, path
    r = await guest.post("im.create", username="visitor")
    assert r.status_code == 400 and r.json()["errorType"] == "error-not-allowed"


async def test_direct_message_one_to_one(srv, alice, bob, events):
    body = await alice.ok("POST", "im.create", username="bob")
    room = body["room"]
    assert room["_id"] == room["rid"] == "".join(sorted([alice.id, bob.id]))
    assert room["t"] == "d" and room["usernames"] == ["alice", "bob"] and room["uids"] == sorted([alice.id, bob.id])
    assert room["usersCount"] == 2 and "name" not in room
    again = await bob.ok("POST", "dm.create", username="alice")
    assert again["room"]["_id"] == room["_id"]
    mine = (await alice.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    theirs = (await bob.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert mine["name"] == "bob" and mine["fname"] == "Bob" and mine["t"] == "d" and mine["open"] is True
    assert theirs["name"] == "alice" and theirs["fname"] == "Alice Liddell"
    assert theirs["open"] is True   # reopened when bob asked for the DM himself
    ims = await alice.ok("GET", "im.list")
    assert [i["_id"] for i in ims["ims"]] == [room["_id"]] and ims["total"] == 1
    members = await alice.ok("GET", "im.members", roomId=room["_id"])
    assert sorted(m["username"] for m in members["members"]) == ["alice", "bob"]
    assert all("subscription" in m for m in members["members"])
    by_name = await alice.ok("GET", "im.members", username="bob")
    assert by_name["total"] == 2
    assert len([e for e in events.of("watch.rooms") if e["clientAction"] == "inserted"]) == 1


async def test_direct_message_close_open_and_counters(srv, alice, bob):
    room = (await alice.ok("POST", "im.create", username="bob"))["room"]
    await alice.ok("POST", "im.close", roomId=room["_id"])
    r = await alice.post("im.close", roomId=room["_id"])
    assert r.status_code == 400 and "already closed" in r.json()["error"]
    assert (await alice.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]["open"] is False
    await alice.ok("POST", "dm.open", roomId=room["_id"])
    counters = await alice.ok("GET", "im.counters", roomId=room["_id"])
    assert counters["joined"] is True and counters["members"] == 2 and counters["unreads"] == 0


async def test_multi_user_and_self_direct_messages(srv, alice, bob, carol):
    group = (await alice.ok("POST", "im.create", usernames="bob, carol"))["room"]
    assert group["_id"] != "".join(sorted([alice.id, bob.id])) and len(group["uids"]) == 3
    assert group["usernames"] == ["alice", "bob", "carol"] and group["usersCount"] == 3
    same = (await carol.ok("POST", "im.create", usernames="alice,bob"))["room"]
    assert same["_id"] == group["_id"]
    sub = (await bob.ok("GET", "subscriptions.getOne", roomId=group["_id"]))["subscription"]
    assert sub["name"] == "alice, carol" and sub["open"] is True
    me = (await alice.ok("POST", "im.create", username="alice"))["room"]
    assert me["uids"] == [alice.id] and me["usersCount"] == 1
    assert (await alice.ok("GET", "subscriptions.getOne", roomId=me["_id"]))["subscription"]["name"] == "alice"


async def test_direct_message_errors(srv, alice, bob):
    r = await alice.post("im.create", username="ghost")
    assert r.status_code == 400 and r.json()["errorType"] == "error-invalid-user"
    r = await alice.post("im.create", username="bob", usernames="carol")
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"
    room = (await alice.ok("POST", "im.create", username="bob"))["room"]
    r = await alice.post("channels.invite", roomId=room["_id"], username="bob")
    assert r.json()["errorType"] == "error-room-not-found"
    r = await alice.post("rooms.leave", roomId=room["_id"])
    assert r.json()["errorType"] == "error-not-allowed"
    r = await alice.post("rooms.saveRoomSettings", rid=room["_id"], roomName="dm-name")
    assert r.status_code == 400


async def test_direct_message_max_users(server_factory):
    from tests.plugins.rooms.conftest import PLUGINS
    srv = await server_factory(plugins=PLUGINS, env={"ORBITCHAT_BCRYPT_ROUNDS": "4",
                                                     "OVERWRITE_SETTING_DirectMesssage_maxUsers": "2"})
    alice = Caller(srv, await create_user(srv, "alice"))
    for name in ("bob", "carol"):
        await create_user(srv, name)
    r = await alice.post("im.create", usernames="bob,carol")
    assert r.json()["errorType"] == "error-direct-message-max-user-exceeded"
    await alice.ok("POST", "im.create", username="bob")


async def test_outsider_cannot_read_a_direct_message(srv, alice, bob, carol):
    room = (await alice.ok("POST", "im.create", username="bob"))["room"]
    r = await carol.get("im.members", roomId=room["_id"])
    assert r.status_code == 400 and r.json()["errorType"] == "error-not-allowed"
    r = await carol.get("rooms.info", roomId=room["_id"])
    assert r.json()["errorType"] == "error-not-allowed"
    r = await carol.post("im.delete", roomId=room["_id"])
    assert r.status_code == 400
    r = await alice.post("im.delete", roomId=room["_id"])   # delete-d is an admin permission
    assert r.json()["errorType"] == "error-not-allowed"
