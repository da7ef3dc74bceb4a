"""Teams security: operator injection in bodies and query strings is refused with 400 before any handler
runs (and changes nothing), and every team action refuses callers without the team-scoped permission."""
from __future__ import annotations

import pytest

from tests.plugins.teams.conftest import caller, make_team, member_ids

OP = {"$ne": None}
FORBIDDEN_TEXT = "User does not have the permissions required for this action [error-unauthorized]"

BODY_ATTACKS = [
    ("teams.create", {"name": OP, "type": 0}),
    ("teams.create", {"name": "x", "type": {"$gt": -1}}),
    ("teams.create", {"name": "x", "type": 0, "members": [OP]}),
    ("teams.create", {"name": "x", "type": 0, "owner": OP}),
    ("teams.create", {"name": "x", "type": 0, "room": {"extraData": {"teamMain": True, "u": {"_id": "x"}}}}),
    ("teams.create", {"name": "x", "type": 0, "$where": "1"}),
    ("teams.addMembers", {"teamId": OP, "members": [{"userId": "x"}]}),
    ("teams.addMembers", {"teamName": {"$regex": ".*"}, "members": [{"userId": "x"}]}),
    ("teams.addMembers", {"teamName": "crew", "members": [{"userId": OP}]}),
    ("teams.addMembers", {"teamName": "crew", "members": [{"userId": "x", "roles": [OP]}]}),
    ("teams.removeMember", {"teamName": "crew", "userId": OP}),
    ("teams.removeMember", {"teamName": "crew", "userId": "x", "rooms": [OP]}),
    ("teams.updateMember", {"teamName": "crew", "member": {"userId": OP, "roles": []}}),
    ("teams.leave", {"teamId": OP}),
    ("teams.leave", {}),
    ("teams.delete", {"teamName": "crew", "roomsToRemove": [OP]}),
    ("teams.update", {"teamName": "crew", "data": {"name": OP}}),
    ("teams.update", {"teamName": "crew", "data": {"type": 7}}),
    ("teams.addRooms", {"teamName": "crew", "rooms": [OP]}),
    ("teams.removeRoom", {"teamName": "crew", "roomId": OP}),
    ("teams.updateRoom", {"roomId": OP, "isDefault": True}),
    ("teams.updateRoom", {"roomId": "x", "isDefault": "yes"}),
    ("teams.convertToChannel", {"teamId": {"$exists": True}}),
    ("channels.convertToTeam", {"channelId": OP}),
    ("groups.convertToTeam", {"roomName": {"$regex": "."}}),
]

QUERY_ATTACKS = [
    ("teams.info", {"teamId[$ne]": "x"}),
    ("teams.info", {"teamName[$regex]": ".*"}),
    ("teams.info", {}),
    ("teams.members", {"teamName": "crew", "username[$ne]": "x"}),
    ("teams.members", {"teamName": "crew", "status": "invisible"}),
    ("teams.listRooms", {"teamId[$gt]": ""}),
    ("teams.listRoomsOfUser", {"teamName": "crew", "userId[$ne]": "x"}),
    ("teams.autocomplete", {"name[$ne]": "x"}),
    ("teams.list", {"query": '{"$where": "sleep(100)"}'}),
    ("teams.list", {"query": '{"_id": {"$ne": null}}'}),
    ("teams.list", {"query": '{"name": {"$regex": ".*"}}'}),
    ("teams.list", {"sort": '{"name": {"$gt": 1}}'}),
]


@pytest.fixture
async def team(srv, alice):
    return await make_team(alice, "crew", 1)


async def test_body_injection_is_refused(srv, alice, team):
    for path, body in BODY_ATTACKS:
        r = await alice.post(path, body)
        assert r.status_code == 400, (path, body, r.text)
        assert r.json()["success"] is False
    assert await srv.kernel.db["rocketchat_team"].count_documents({}) == 1
    assert await member_ids(alice, team["_id"]) == {"alice": ["owner"]}


async def test_query_injection_is_refused(srv, alice, team):
    for path, params in QUERY_ATTACKS:
        r = await alice.get(path, **params)
        assert r.status_code == 400, (path, params, r.text)
        assert r.json()["success"] is False


async def test_non_object_bodies_are_refused(srv, alice, team):
    for raw in (b"[]", b'"crew"', b"not json"):
        r = await srv.http.post("/api/v1/teams.delete", content=raw,
                                headers={**alice.user.headers, "Content-Type": "application/json"})
        assert r.status_code == 400
    assert await srv.kernel.db["rocketchat_team"].count_documents({}) == 1


async def test_anonymous_callers_get_401(srv, team):
    for path in ("teams.list", "teams.info", "teams.members", "teams.listRooms", "teams.autocomplete"):
        assert (await srv.http.get(f"/api/v1/{path}", params={"teamId": team["_id"]})).status_code == 401
    for path in ("teams.create", "teams.delete", "teams.addMembers", "teams.leave"):
        assert (await srv.http.post(f"/api/v1/{path}", json={"teamId": team["_id"]})).status_code == 401


async def test_a_plain_user_is_refused_team_actions(srv, alice, bob, team):
    mallory = await caller(srv, "mallory")
    tid = team["_id"]
    side = (await alice.ok("POST", "channels.create", name="side"))["channel"]
    await alice.ok("POST", "teams.addRooms", teamId=tid, rooms=[side["_id"]])
    refusals = [
        ("teams.update", {"teamId": tid, "data": {"name": "mine"}}),
        ("teams.delete", {"teamId": tid}),
        ("teams.convertToChannel", {"teamId": tid}),
        ("teams.addMembers", {"teamId": tid, "members": [{"userId": mallory.id, "roles": ["owner"]}]}),
        ("teams.updateMember", {"teamId": tid, "member": {"userId": alice.id, "roles": []}}),
        ("teams.removeMember", {"teamId": tid, "userId": alice.id}),
        ("teams.addRooms", {"teamId": tid, "rooms": [side["_id"]]}),
        ("teams.removeRoom", {"teamId": tid, "roomId": side["_id"]}),
        ("teams.updateRoom", {"roomId": side["_id"], "isDefault": True}),
    ]
    for path, body in refusals:
        r = await mallory.post(path, body)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["success"] is False
    r = await mallory.get("teams.listAll")
    assert r.status_code == 403 and r.json()["error"] == FORBIDDEN_TEXT
    assert (await mallory.fails("GET", "teams.info", 403, teamId=tid))["error"] == "unauthorized"
    assert (await mallory.fails("GET", "teams.listRooms", teamId=tid))["error"] == "user-not-on-private-team"
    assert (await mallory.fails("GET", "teams.listRoomsOfUser", 403, teamId=tid, userId=alice.id))
    assert (await mallory.ok("GET", "teams.members", teamId=tid))["members"] == []
    assert (await mallory.ok("GET", "teams.list"))["teams"] == []
    assert (await mallory.ok("GET", "teams.autocomplete", name="cr"))["teams"] == []
    # Nothing changed.
    assert await member_ids(alice, tid) == {"alice": ["owner"]}
    info = (await alice.ok("GET", "teams.info", teamId=tid))["teamInfo"]
    assert info["name"] == "crew"


async def test_a_team_member_without_a_role_is_refused_too(srv, alice, bob, team):
    await alice.ok("POST", "teams.addMembers", teamId=team["_id"], members=[{"userId": bob.id, "roles": ["member"]}])
    for path, body in (("teams.delete", {"teamId": team["_id"]}),
                       ("teams.update", {"teamId": team["_id"], "data": {"type": 0}}),
                       ("teams.updateMember", {"teamId": team["_id"], "member": {"userId": bob.id,
                                                                                 "roles": ["owner"]}})):
        assert (await bob.post(path, body)).status_code == 403, path
    assert (await member_ids(alice, team["_id"]))["bob"] == ["member"]
    # A member may read the private team.
    await bob.ok("GET", "teams.info", teamId=team["_id"])
    await bob.ok("GET", "teams.listRooms", teamId=team["_id"])
