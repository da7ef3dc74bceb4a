"""authorization.can_access_room and authorization.add_user_roles / remove_user_roles over the broker."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import MeteorError
from tests.users import create_user


async def _rooms(srv, member_id: str) -> None:
    db = srv.kernel.db
    await db["rocketchat_room"].insert_many([
        {"_id": "pub", "t": "c", "name": "pub"},
        {"_id": "priv", "t": "p", "name": "priv"},
        {"_id": "dm", "t": "d", "uids": [member_id, "someone"]},
        {"_id": "live", "t": "l"},
    ])
    await db["rocketchat_subscription"].insert_many([
        {"_id": "s-priv", "rid": "priv", "u": {"_id": member_id, "username": "member"}, "roles": ["owner"]},
        {"_id": "s-live", "rid": "live", "u": {"_id": member_id, "username": "member"}},
    ])


async def test_can_access_room(authz):
    member = await create_user(authz, "member")
    outsider = await create_user(authz, "outsider")
    guest = await create_user(authz, "visitor", roles=("guest",))
    await _rooms(authz, member.id)
    call = authz.kernel.broker.call
    assert await call("authorization.can_access_room", outsider.id, "pub") is True    # view-c-room
    assert await call("authorization.can_access_room", guest.id, "pub") is False      # guests lack it
    assert await call("authorization.can_access_room", member.id, "priv") is True     # subscribed
    assert await call("authorization.can_access_room", outsider.id, "priv") is False
    assert await call("authorization.can_access_room", member.id, "dm") is True       # in uids
    assert await call("authorization.can_access_room", outsider.id, "dm") is False
    assert await call("authorization.can_access_room", member.id, "live") is False    # not our rules
    assert await call("authorization.can_access_room", member.id, "missing") is False
    assert await call("authorization.can_access_room", "ghost", "pub") is False
    assert await call("authorization.can_access_room", member.id, {"$ne": None}) is False
    # a guest subscribed to a public room may read it: the subscription's change event (what the rooms
    # service emits after its write) makes the check read it at once
    sub = {"_id": "s-pub", "rid": "pub", "u": {"_id": guest.id, "username": "visitor"}}
    await authz.kernel.db["rocketchat_subscription"].insert_one(dict(sub))
    await authz.kernel.broker.emit("watch.subscriptions", {"clientAction": "inserted", "subscription": sub})
    assert await call("authorization.can_access_room", guest.id, "pub") is True


async def test_checks_follow_change_events_and_expire(authz):
    """Checks keep what they read for a moment (1 s, as Rocket.Chat's role cache): a change event drops it
    at once; a write that produced no event (another program on the database) is seen once it expires."""
    member = await create_user(authz, "member")
    await _rooms(authz, member.id)
    call = authz.kernel.broker.call
    db = authz.kernel.db
    assert await call("authorization.can_access_room", member.id, "priv") is True
    await db["rocketchat_subscription"].delete_one({"_id": "s-priv"})
    await authz.kernel.broker.emit("watch.subscriptions", {"clientAction": "removed", "subscription": {
        "_id": "s-priv", "rid": "priv", "u": {"_id": member.id}}})
    assert await call("authorization.can_access_room", member.id, "priv") is False
    assert await call("authorization.can_access_room", member.id, "dm") is True
    await db["rocketchat_room"].update_one({"_id": "dm"}, {"$set": {"uids": ["someone", "else"]}})
    await asyncio.sleep(1.1)
    assert await call("authorization.can_access_room", member.id, "dm") is False


async def test_room_scoped_permission_over_the_broker(authz):
    member = await create_user(authz, "member")
    await _rooms(authz, member.id)
    call = authz.kernel.broker.call
    assert await call("authorization.has_permission", member.id, "delete-p", "priv") is True
    assert await call("authorization.has_permission", member.id, "delete-p", "pub") is False
    assert await call("authorization.has_permission", member.id, "delete-p") is False
    assert await call("authorization.has_all", member.id, ["delete-p", "create-c"], "priv") is True
    assert await call("authorization.has_at_least_one", member.id, ["delete-user", "delete-p"], "priv") is True


async def test_add_and_remove_user_roles_action(authz):
    member = await create_user(authz, "member")
    await _rooms(authz, member.id)
    events: list = []
    await authz.kernel.broker.subscribe("user.roleUpdate", events.append)
    call = authz.kernel.broker.call
    db = authz.kernel.db
    assert await call("authorization.add_user_roles", member.id, ["bot", "moderator"], "priv") is True
    assert (await db["users"].find_one({"_id": member.id}))["roles"] == ["user", "bot"]
    assert (await db["rocketchat_subscription"].find_one({"_id": "s-priv"}))["roles"] == ["owner", "moderator"]
    assert [(e["type"], e["_id"], e.get("scope")) for e in events] == [("added", "bot", None),
                                                                         ("added", "moderator", "priv")]
    await call("authorization.add_user_roles", member.id, ["bot"])    # already held: no change, no event
    assert len(events) == 2
    assert await call("authorization.remove_user_roles", member.id, ["moderator", "owner"], "priv") is True
    assert (await db["rocketchat_subscription"].find_one({"_id": "s-priv"}))["roles"] == []
    assert await call("authorization.remove_user_roles", member.id, ["bot"]) is True
    assert (await db["users"].find_one({"_id": member.id}))["roles"] == ["user"]
    assert [e["type"] for e in events[2:]] == ["removed", "removed", "removed"]


@pytest.mark.parametrize("args,code", [
    (("ghost", ["bot"]), "error-invalid-user"),
    ((None, ["bot"]), "error-invalid-arguments"),
    (("MEMBER", ["no-such-role"]), "error-invalid-role"),
    (("MEMBER", ["owner"]), "error-invalid-scope"),
    (("MEMBER", ["owner"], "pub"), "error-invalid-user"),
])
async def test_add_user_roles_refusals(authz, args, code):
    member = await create_user(authz, "member")
    await _rooms(authz, member.id)
    args = tuple(member.id if a == "MEMBER" else a for a in args)
    with pytest.raises(MeteorError) as err:
        await authz.kernel.broker.call("authorization.add_user_roles", *args)
    assert err.value.code == code
    assert (await authz.kernel.db["users"].find_one({"_id": member.id}))["roles"] == ["user"]


async def test_broker_checks_read_the_stored_roles(authz):
    """An announced role change is superseded by a later write of the user document, once the checks'
    cached copy of the user has expired (the write, made directly in the database, announced nothing)."""
    member = await create_user(authz, "member")
    call = authz.kernel.broker.call
    await call("authorization.add_user_roles", member.id, ["admin"])
    assert await call("authorization.has_permission", member.id, "delete-user") is True
    later = datetime.now(UTC) + timedelta(seconds=1)
    await authz.kernel.db["users"].update_one({"_id": member.id},
                                              {"$set": {"roles": ["user"], "_updatedAt": later}})
    await asyncio.sleep(1.1)
    assert await call("authorization.has_permission", member.id, "delete-user") is False
