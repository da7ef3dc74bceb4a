"""teams.members / addMembers / updateMember / removeMember / leave, and the main room's membership following
the team's (and the other way round) over real HTTP."""
from __future__ import annotations

from tests.plugins.teams.conftest import caller, make_team, member_ids, room_of, settle, sub_of


async def test_add_members_join_the_main_room(srv, alice, bob, carol):
    team = await make_team(alice, "crew")
    await alice.ok("POST", "teams.addMembers", teamId=team["_id"],
                   members=[{"userId": bob.id, "roles": ["moderator"]}, {"userId": carol.id, "roles": ["member"]}])
    await settle(srv)
    assert await member_ids(alice, team["_id"]) == {"alice": ["owner"], "bob": ["moderator"], "carol": ["member"]}
    bob_sub = await sub_of(srv, team["roomId"], bob.id)
    assert bob_sub["roles"] == ["moderator"] and bob_sub["teamMain"] is True and bob_sub["teamId"] == team["_id"]
    carol_sub = await sub_of(srv, team["roomId"], carol.id)
    assert "member" not in (carol_sub.get("roles") or [])   # a team-only label, not a room role
    assert (await room_of(srv, team["roomId"]))["usersCount"] == 3
    messages = (await alice.ok("GET", "channels.messages", roomId=team["roomId"]))["messages"]
    assert {m["t"] for m in messages} >= {"au"}
    # A moderator may add members too (add-team-member is scoped to the team's main room).
    dave = await caller(srv, "dave")
    await bob.ok("POST", "teams.addMembers", teamName="crew", members=[{"userId": dave.id}])
    await settle(srv)
    assert "dave" in await member_ids(alice, team["_id"])
    # Adding again only adds roles.
    await alice.ok("POST", "teams.addMembers", teamId=team["_id"], members=[{"userId": dave.id, "roles": ["leader"]}])
    assert (await member_ids(alice, team["_id"]))["dave"] == ["leader"]
    assert (await sub_of(srv, team["roomId"], dave.id))["roles"] == ["leader"]


async def test_add_members_refusals(srv, alice, bob, carol):
    team = await make_team(alice, "crew", members=[bob.id])
    r = await bob.post("teams.addMembers", teamId=team["_id"], members=[{"userId": carol.id}])
    assert r.status_code == 403 and r.json() == {"success": False, "error": "unauthorized"}
    assert (await alice.fails("POST", "teams.addMembers", teamId="nope",
                              members=[{"userId": carol.id}]))["error"] == "team-does-not-exist"
    body = await alice.fails("POST", "teams.addMembers", teamId=team["_id"], members=[{"userId": "ghost"}])
    assert body["errorType"] == "error-invalid-user"
    body = await alice.fails("POST", "teams.addMembers", teamId=team["_id"],
                             members=[{"userId": carol.id, "roles": ["admin"]}])
    assert body["errorType"] == "invalid-params"   # only team roles, never a global one
    assert "carol" not in await member_ids(alice, team["_id"])


async def test_members_listing_filters_and_pages(srv, alice, bob, carol):
    team = await make_team(alice, "crew", members=[bob.id, carol.id])
    await srv.kernel.db["users"].update_one({"_id": bob.id}, {"$set": {"status": "online"}})
    body = await bob.ok("GET", "teams.members", teamId=team["_id"])
    assert body["total"] == 3 and body["count"] == 3 and body["offset"] == 0
    first = body["members"][0]
    assert set(first) == {"user", "roles", "createdBy", "createdAt"} or set(first) == {"user", "createdBy", "createdAt"}
    assert set(first["user"]) == {"_id", "username", "name", "status"}
    assert first["createdBy"] == {"_id": alice.id, "username": "alice"}
    online = await bob.ok("GET", "teams.members", teamId=team["_id"], status=["online"])
    assert [m["user"]["username"] for m in online["members"]] == ["bob"]
    named = await bob.ok("GET", "teams.members", teamId=team["_id"], name="liddell")
    assert [m["user"]["username"] for m in named["members"]] == ["alice"]
    by_username = await bob.ok("GET", "teams.members", teamId=team["_id"], username="CAR")
    assert [m["user"]["username"] for m in by_username["members"]] == ["carol"]
    page = await bob.ok("GET", "teams.members", teamId=team["_id"], count=2, offset=1)
    assert page["count"] == 2 and page["total"] == 3 and page["offset"] == 1
    # Not a member of the team: an empty list, as Rocket.Chat answers.
    outsider = await caller(srv, "outsider")
    assert (await outsider.ok("GET", "teams.members", teamId=team["_id"]))["members"] == []


async def test_update_member_roles(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    await alice.ok("POST", "teams.updateMember", teamId=team["_id"], member={"userId": bob.id,
                                                                             "roles": ["owner", "moderator"]})
    assert (await member_ids(alice, team["_id"]))["bob"] == ["owner", "moderator"]
    assert sorted((await sub_of(srv, team["roomId"], bob.id))["roles"]) == ["moderator", "owner"]
    # Now an owner, bob may edit the team.
    await bob.ok("POST", "teams.update", teamId=team["_id"], data={"name": "bobs-crew"})
    await alice.ok("POST", "teams.updateMember", teamId=team["_id"], member={"userId": bob.id})
    assert (await member_ids(alice, team["_id"]))["bob"] == []
    assert not (await sub_of(srv, team["roomId"], bob.id)).get("roles")
    r = await bob.post("teams.updateMember", teamId=team["_id"], member={"userId": alice.id, "roles": []})
    assert r.status_code == 403
    body = await alice.fails("POST", "teams.updateMember", teamId=team["_id"], member={"userId": alice.id, "roles": []})
    assert body["error"] == "last-owner-can-not-be-removed"


async def test_remove_member_and_its_team_rooms(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    side = (await alice.ok("POST", "channels.create", name="side", members=["bob"]))["channel"]
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[side["_id"]])
    await alice.ok("POST", "teams.removeMember", teamId=team["_id"], userId=bob.id, rooms=[side["_id"]])
    await settle(srv)
    assert "bob" not in await member_ids(alice, team["_id"])
    assert await sub_of(srv, team["roomId"], bob.id) is None
    assert await sub_of(srv, side["_id"], bob.id) is None
    messages = (await alice.ok("GET", "channels.messages", roomId=team["roomId"]))["messages"]
    assert "ru" in {m["t"] for m in messages}
    assert (await alice.fails("POST", "teams.removeMember", teamId=team["_id"],
                              userId=bob.id))["error"] == "member-does-not-exist"
    assert (await alice.fails("POST", "teams.removeMember", teamId=team["_id"],
                              userId="ghost"))["error"] == "invalid-user"
    assert (await alice.fails("POST", "teams.removeMember", teamId=team["_id"],
                              userId=alice.id))["error"] == "last-owner-can-not-be-removed"


async def test_remove_member_needs_edit_team_member(srv, alice, bob, carol):
    team = await make_team(alice, "crew", members=[bob.id, carol.id])
    r = await bob.post("teams.removeMember", teamId=team["_id"], userId=carol.id)
    assert r.status_code == 403
    assert "carol" in await member_ids(alice, team["_id"])


async def test_leave(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    side = (await alice.ok("POST", "channels.create", name="side", members=["bob"]))["channel"]
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[side["_id"]])
    await bob.ok("POST", "teams.leave", teamName="crew", rooms=[side["_id"]])
    await settle(srv)
    assert "bob" not in await member_ids(alice, team["_id"])
    assert await sub_of(srv, team["roomId"], bob.id) is None and await sub_of(srv, side["_id"], bob.id) is None
    assert (await bob.fails("POST", "teams.leave", teamName="crew"))["error"] == "member-does-not-exist"
    assert (await alice.fails("POST", "teams.leave", teamName="crew"))["error"] == "last-owner-can-not-be-removed"
    assert (await bob.fails("POST", "teams.leave", teamName="nope"))["error"] == "team-does-not-exist"


async def test_joining_and_leaving_the_main_room_follows_the_team(srv, alice, bob, carol):
    team = await make_team(alice, "crew")
    await bob.ok("POST", "channels.join", roomId=team["roomId"])
    await settle(srv)
    members = await member_ids(alice, team["_id"])
    assert "bob" in members
    doc = await srv.kernel.db["rocketchat_team_member"].find_one({"teamId": team["_id"], "userId": bob.id})
    assert doc["createdBy"]["_id"] == bob.id
    assert [t["name"] for t in (await bob.ok("GET", "teams.list"))["teams"]] == ["crew"]
    await alice.ok("POST", "channels.invite", roomId=team["roomId"], userId=carol.id)
    await settle(srv)
    doc = await srv.kernel.db["rocketchat_team_member"].find_one({"teamId": team["_id"], "userId": carol.id})
    assert doc["createdBy"]["_id"] == alice.id
    await bob.ok("POST", "channels.leave", roomId=team["roomId"])
    await settle(srv)
    assert "bob" not in await member_ids(alice, team["_id"])
    await alice.ok("POST", "channels.kick", roomId=team["roomId"], userId=carol.id)
    await settle(srv)
    assert await member_ids(alice, team["_id"]) == {"alice": ["owner"]}


async def test_a_deleted_user_leaves_its_teams(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    await srv.kernel.broker.emit("user.deleted", {"userId": bob.id})
    assert await srv.kernel.db["rocketchat_team_member"].count_documents({"userId": bob.id}) == 0
    assert team["_id"]
