"""The PyPI client `rocketchat-api` (REST, sync, in a worker thread while the server runs in the test's event
loop) drives channel, private group and DM management as a script would."""
from __future__ import annotations

import asyncio
from typing import Any

from tests.users import create_user


def room_flows(base_url: str, bob_id: str) -> dict[str, Any]:
    from rocketchat_API.rocketchat import RocketChat

    alice = RocketChat("alice", "alice-pw", server_url=base_url)
    bob = RocketChat("bob", "bob-pw", server_url=base_url)
    out: dict[str, Any] = {}
    for i in range(5):
        alice.channels_create(f"paged-{i}")
    out["listed"] = [c["name"] for c in alice.channels_list(count=2)]
    room = alice.channels_create("client-rooms")["channel"]
    rid = room["_id"]
    alice.channels_invite(rid, bob_id)
    out["members"] = [m["username"] for m in alice.channels_members(room_id=rid, count=1)]
    alice.channels_set_topic(rid, "client topic")
    alice.channels_add_moderator(rid, bob_id)
    out["roles"] = alice.channels_roles(room_id=rid)["roles"]
    out["renamed"] = alice.channels_rename(rid, "client-rooms-2")["channel"]
    alice.channels_kick(rid, bob_id)
    bob.channels_join(rid, None)
    out["joined"] = [c["name"] for c in bob.channels_list_joined()]
    bob.channels_leave(rid)
    out["info"] = alice.channels_info(room_id=rid)["channel"]
    group = alice.groups_create("client-private")["group"]
    alice.groups_invite(group["_id"], bob_id)
    out["bob_groups"] = [g["name"] for g in bob.groups_list()]
    out["group_members"] = sorted(m["username"] for m in bob.groups_members(room_id=group["_id"]))
    alice.groups_kick(group["_id"], bob_id)
    out["bob_groups_after"] = [g["name"] for g in bob.groups_list()]
    dm = alice.dm_create("bob")["room"]
    out["dm"] = dm
    out["dm_members"] = sorted(m["username"] for m in bob.dm_members(dm["_id"]))
    out["ims"] = [i["_id"] for i in bob.dm_list()]
    bob.subscriptions_read(rid=dm["_id"])
    out["subscription"] = bob.subscriptions_get_one(dm["_id"])["subscription"]
    out["rooms"] = [r["_id"] for r in bob.rooms_get()["update"]]
    out["room_info"] = bob.rooms_info(room_id=dm["_id"])["room"]
    alice.channels_archive(rid)
    alice.channels_delete(room_id=rid)
    out["deleted"] = rid not in [c["_id"] for c in alice.channels_list()]
    return out


async def test_rocketchat_api_room_flows(srv):
    alice = await create_user(srv, "alice", password="alice-pw")
    bob = await create_user(srv, "bob", password="bob-pw")
    out = await asyncio.to_thread(room_flows, srv.base_url, bob.id)
    assert out["listed"] == [f"paged-{i}" for i in range(5)]
    assert out["members"] == ["alice", "bob"]
    assert [(r["u"]["username"], r["roles"]) for r in out["roles"]] == [("alice", ["owner"]), ("bob", ["moderator"])]
    assert out["renamed"]["name"] == "client-rooms-2"
    assert out["joined"] == ["client-rooms-2"]
    assert out["info"]["usersCount"] == 1 and out["info"]["topic"] == "client topic"
    assert out["bob_groups"] == ["client-private"] and out["group_members"] == ["alice", "bob"]
    assert out["bob_groups_after"] == []
    assert out["dm"]["_id"] == "".join(sorted([alice.id, bob.id])) and out["dm"]["t"] == "d"
    assert out["dm_members"] == ["alice", "bob"] and out["ims"] == [out["dm"]["_id"]]
    assert out["subscription"]["unread"] == 0 and out["subscription"]["open"] is True
    assert out["rooms"] == [out["dm"]["_id"]] and out["room_info"]["usernames"] == ["alice", "bob"]
    assert out["deleted"] is True
