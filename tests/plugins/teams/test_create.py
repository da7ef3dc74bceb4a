"""teams.create, teams.info, teams.list / listAll, teams.update, channels/groups.convertToTeam over real HTTP."""
from __future__ import annotations

from tests.plugins.teams.conftest import caller, make_team, member_ids, room_of, settle, sub_of


async def test_create_public_team_with_main_room(srv, alice, bob):
    team = await make_team(alice, "crew", 0, members=[bob.id])
    assert set(team) == {"_id", "name", "type", "roomId", "createdBy", "createdAt", "_updatedAt"}
    assert team["name"] == "crew" and team["type"] == 0
    assert team["createdBy"] == {"_id": alice.id, "username": "alice"}
    assert team["createdAt"].endswith("Z")
    room = await room_of(srv, team["roomId"])
    assert room["t"] == "c" and room["name"] == "crew"
    assert room["teamMain"] is True and room["teamId"] == team["_id"] and room["usersCount"] == 2
    await settle(srv)
    for user in (alice, bob):
        sub = await sub_of(srv, team["roomId"], user.id)
        assert sub["teamId"] == team["_id"] and sub["teamMain"] is True
    assert (await sub_of(srv, team["roomId"], alice.id))["roles"] == ["owner"]
    assert await member_ids(alice, team["_id"]) == {"alice": ["owner"], "bob": None}
    doc = await srv.kernel.db["rocketchat_team_member"].find_one({"teamId": team["_id"], "userId": bob.id})
    assert doc["createdBy"] == {"_id": alice.id, "username": "alice"} and "roles" not in doc


async def test_create_private_team_read_only_with_extra_data(srv, alice, bob):
    team = await make_team(alice, "secret", 1, members=["bob"],
                           room={"readOnly": True, "extraData": {"topic": "hush", "encrypted": False}},
                           sidepanel={"items": ["channels"]})
    room = await room_of(srv, team["roomId"])
    assert room["t"] == "p" and room["ro"] is True and room["topic"] == "hush"
    assert room["sidepanel"] == {"items": ["channels"]}
    info = (await bob.ok("GET", "groups.info", roomId=team["roomId"]))["group"]
    assert info["teamMain"] is True and info["teamId"] == team["_id"]


async def test_create_with_another_owner(srv, alice, bob):
    team = await make_team(alice, "delegated", 0, owner=bob.id)
    assert team["createdBy"]["_id"] == alice.id
    room = await room_of(srv, team["roomId"])
    assert room["u"]["_id"] == bob.id
    assert await member_ids(bob, team["_id"]) == {"bob": ["owner"]}
    assert await sub_of(srv, team["roomId"], alice.id) is None


async def test_duplicate_names_are_refused(srv, alice, bob):
    await make_team(alice, "crew")
    assert (await bob.fails("POST", "teams.create", name="crew", type=1))["error"] == "team-name-already-exists"
    assert (await bob.fails("POST", "teams.create", name="CREW", type=0))["error"] == "team-name-already-exists"
    assert (await bob.fails("POST", "teams.create", name="alice", type=0))["error"] == "team-name-already-exists"
    await bob.ok("POST", "channels.create", name="lobby")
    assert (await bob.fails("POST", "teams.create", name="lobby", type=0))["error"] == "room-name-already-exists"


async def test_failed_room_creation_leaves_no_team(srv, alice):
    body = await alice.fails("POST", "teams.create", name="invalid*team*name", type=0)
    assert body["error"] == "error-team-creation"
    assert (await alice.fails("GET", "teams.info", teamName="invalid*team*name"))["error"] == "Team not found"
    assert (await alice.fails("GET", "teams.members", teamName="invalid*team*name"))["error"] == "team-does-not-exist"
    assert await srv.kernel.db["rocketchat_team"].count_documents({}) == 0
    assert await srv.kernel.db["rocketchat_team_member"].count_documents({}) == 0


async def test_create_needs_create_team(srv):
    guest = await caller(srv, "visitor", roles=("guest",))
    r = await guest.post("teams.create", name="nope", type=0)
    assert r.status_code == 403 and r.json()["success"] is False
    assert await srv.kernel.db["rocketchat_team"].count_documents({}) == 0


async def test_info_by_id_and_name_and_access(srv, alice, bob, admin):
    team = await make_team(alice, "hidden", 1)
    by_id = (await alice.ok("GET", "teams.info", teamId=team["_id"]))["teamInfo"]
    by_name = (await alice.ok("GET", "teams.info", teamName="hidden"))["teamInfo"]
    assert by_id == by_name and by_id["roomId"] == team["roomId"]
    assert (await bob.fails("GET", "teams.info", 403, teamId=team["_id"]))["error"] == "unauthorized"
    await admin.ok("GET", "teams.info", teamId=team["_id"])   # view-all-teams
    public = await make_team(alice, "open", 0)
    await bob.ok("GET", "teams.info", teamId=public["_id"])   # a public main room is visible to all


async def test_list_only_my_teams_with_counts(srv, alice, bob, admin):
    a = await make_team(alice, "alpha", 0, members=[bob.id])
    await make_team(bob, "beta", 1)
    await make_team(admin, "gamma", 0)
    mine = await alice.ok("GET", "teams.list")
    assert [t["name"] for t in mine["teams"]] == ["alpha"]
    assert mine["teams"][0]["numberOfUsers"] == 2 and mine["teams"][0]["rooms"] == 0
    assert mine["total"] == 1 and mine["count"] == 1 and mine["offset"] == 0
    bobs = await bob.ok("GET", "teams.list", sort='{"name": -1}')
    assert [t["name"] for t in bobs["teams"]] == ["beta", "alpha"]
    page = await bob.ok("GET", "teams.list", count=1, offset=1, sort='{"name": 1}')
    assert [t["name"] for t in page["teams"]] == ["beta"] and page["total"] == 2
    filtered = await bob.ok("GET", "teams.list", query='{"type": 1}')
    assert [t["name"] for t in filtered["teams"]] == ["beta"]
    assert a["_id"] in {t["_id"] for t in bobs["teams"]}
    everything = await admin.ok("GET", "teams.listAll")
    assert sorted(t["name"] for t in everything["teams"]) == ["alpha", "beta", "gamma"]
    assert everything["total"] == 3
    r = await alice.get("teams.listAll")
    assert r.status_code == 403


async def test_update_renames_and_retypes_the_main_room(srv, alice, bob):
    team = await make_team(alice, "old-name", 0, members=[bob.id])
    await alice.ok("POST", "teams.update", teamId=team["_id"], data={"name": "new-name", "type": 1})
    info = (await alice.ok("GET", "teams.info", teamId=team["_id"]))["teamInfo"]
    assert info["name"] == "new-name" and info["type"] == 1
    room = await room_of(srv, team["roomId"])
    assert room["name"] == "new-name" and room["t"] == "p"
    await settle(srv)
    assert (await sub_of(srv, team["roomId"], bob.id))["name"] == "new-name"
    r = await bob.post("teams.update", teamId=team["_id"], data={"name": "bobs"})
    assert r.status_code == 403 and r.json()["error"] == "unauthorized"
    await make_team(bob, "taken")
    assert (await alice.fails("POST", "teams.update", teamId=team["_id"],
                              data={"name": "taken"}))["error"] == "team-name-already-exists"


async def test_autocomplete(srv, alice, bob):
    await make_team(alice, "design", 0)
    await make_team(alice, "devops", 1)
    await make_team(alice, "marketing", 0)
    mine = (await alice.ok("GET", "teams.autocomplete", name="de"))["teams"]
    assert [t["name"] for t in mine] == ["design", "devops"]
    assert set(mine[0]) <= {"_id", "fname", "teamId", "name", "t", "avatarETag"}
    theirs = (await bob.ok("GET", "teams.autocomplete", name="DE"))["teams"]
    assert [t["name"] for t in theirs] == ["design"]   # a private team's main room only for its members


async def test_convert_channel_and_group_to_team(srv, alice, bob):
    ch = (await alice.ok("POST", "channels.create", name="village", members=["bob"]))["channel"]
    team = (await alice.ok("POST", "channels.convertToTeam", channelId=ch["_id"]))["team"]
    assert team["roomId"] == ch["_id"] and team["type"] == 0 and team["name"] == "village"
    assert (await room_of(srv, ch["_id"]))["teamMain"] is True
    assert await member_ids(alice, team["_id"]) == {"alice": ["owner"], "bob": None}
    assert (await alice.fails("POST", "channels.convertToTeam", channelId=ch["_id"]))["error"] == \
        "room-already-on-team"
    grp = (await bob.ok("POST", "groups.create", name="hideout"))["group"]
    r = await alice.post("groups.convertToTeam", roomId=grp["_id"])
    assert r.status_code == 400 and r.json()["errorType"] == "error-room-not-found"
    team2 = (await bob.ok("POST", "groups.convertToTeam", roomName="hideout"))["team"]
    assert team2["type"] == 1
    plain = (await bob.ok("POST", "channels.create", name="bobs-place"))["channel"]
    assert (await alice.fails("POST", "channels.convertToTeam", 403, channelName="bobs-place"))["error"] == \
        "unauthorized"
    assert plain["_id"]
