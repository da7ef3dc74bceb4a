"""Rooms follow users: renames reach subscriptions, rooms and DM names; a deleted user's memberships and
one-to-one DMs go, and a room left without an owner gets one."""
from __future__ import annotations

from tests.plugins.rooms.conftest import settle


async def test_rename_reaches_rooms_and_subscriptions(srv, admin, alice, bob):
    room = (await alice.ok("POST", "channels.create", name="renames", members=["bob"]))["channel"]
    dm = (await bob.ok("POST", "im.create", username="alice"))["room"]
    await admin.ok("POST", "users.update", userId=alice.id, data={"username": "alicia", "name": "Alicia"})
    await settle(srv)
    sub = (await alice.ok("GET", "subscriptions.getOne", roomId=room["_id"]))["subscription"]
    assert sub["u"]["username"] == "alicia" and sub["u"]["name"] == "Alicia"
    info = (await bob.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    assert info["u"]["username"] == "alicia"
    peer = (await bob.ok("GET", "subscriptions.getOne", roomId=dm["_id"]))["subscription"]
    assert (peer["name"], peer["fname"]) == ("alicia", "Alicia")
    assert (await bob.ok("GET", "rooms.info", roomId=dm["_id"]))["room"]["usernames"] == ["alicia", "bob"]


async def test_deleted_user_leaves_rooms_and_ownership_passes_on(srv, admin, alice, bob, carol):
    room = (await alice.ok("POST", "channels.create", name="inheritance", members=["bob", "carol"]))["channel"]
    dm = (await alice.ok("POST", "im.create", username="bob"))["room"]
    trio = (await alice.ok("POST", "im.create", usernames="bob,carol"))["room"]
    await admin.ok("POST", "users.delete", userId=alice.id)
    await settle(srv)
    info = (await bob.ok("GET", "channels.info", roomId=room["_id"]))["channel"]
    assert info["usersCount"] == 2
    roles = (await bob.ok("GET", "channels.roles", roomId=room["_id"]))["roles"]
    assert [(r["u"]["username"], r["roles"]) for r in roles] == [("bob", ["owner"])]
    assert (await bob.ok("GET", "subscriptions.getOne", roomId=dm["_id"]))["subscription"] is None
    assert await srv.kernel.db["rocketchat_room"].count_documents({"_id": dm["_id"]}) == 0
    assert (await bob.ok("GET", "subscriptions.getOne", roomId=trio["_id"]))["subscription"] is not None
    assert await srv.kernel.db["rocketchat_subscription"].count_documents({"u._id": alice.id}) == 0
