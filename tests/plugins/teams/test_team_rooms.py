"""teams.addRooms / removeRoom / updateRoom / listRooms / listRoomsOfUser, teams.delete and
teams.convertToChannel over real HTTP, with the rooms service's documents and events checked."""
from __future__ import annotations

from tests.plugins.teams.conftest import caller, make_team, room_of, settle, sub_of


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict]] = []

    async def attach(self, srv, *names: str) -> Events:
        for name in names:
            await srv.kernel.broker.subscribe(name, lambda p, n=name: self.seen.append((n, p)))
        return self

    def rooms(self, rid: str) -> list[dict]:
        return [p for n, p in self.seen if n == "watch.rooms" and p["room"]["_id"] == rid]


async def channel(owner, name: str, **kw) -> dict:
    return (await owner.ok("POST", "channels.create", name=name, **kw))["channel"]


async def group(owner, name: str, **kw) -> dict:
    return (await owner.ok("POST", "groups.create", name=name, **kw))["group"]


async def test_add_rooms_links_rooms_and_subscriptions(srv, alice, bob):
    events = await Events().attach(srv, "watch.rooms")
    team = await make_team(alice, "crew", members=[bob.id])
    ch = await channel(alice, "side", members=["bob"])
    grp = await group(alice, "backroom")
    body = await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[ch["_id"], grp["_id"]])
    assert [r["_id"] for r in body["rooms"]] == [ch["_id"], grp["_id"]]
    assert all(r["teamId"] == team["_id"] and "teamDefault" not in r and "teamMain" not in r for r in body["rooms"])
    await settle(srv)
    assert (await sub_of(srv, ch["_id"], bob.id))["teamId"] == team["_id"]
    assert "teamMain" not in await sub_of(srv, ch["_id"], bob.id)
    updated = events.rooms(ch["_id"])[-1]
    assert updated["clientAction"] == "updated" and updated["room"]["teamId"] == team["_id"]
    messages = (await alice.ok("GET", "channels.messages", roomId=team["roomId"]))["messages"]
    assert [m["msg"] for m in messages if m.get("t") == "user-added-room-to-team"] == ["side"]
    # A member joining a team room later gets the team on the new subscription too.
    carol = await caller(srv, "carol")
    await carol.ok("POST", "channels.join", roomId=ch["_id"])
    assert (await sub_of(srv, ch["_id"], carol.id))["teamId"] == team["_id"]
    listed = await bob.ok("GET", "teams.list")
    assert listed["teams"][0]["rooms"] == 2


async def test_add_rooms_refusals(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    other = await make_team(alice, "other")
    bobs = await channel(bob, "bobs-room")
    mine = await channel(alice, "mine")
    r = await bob.post("teams.addRooms", teamId=team["_id"], rooms=[bobs["_id"]])
    assert r.status_code == 403 and r.json()["error"] == "error-no-permission-team-channel"
    assert (await alice.fails("POST", "teams.addRooms", teamId=team["_id"],
                              rooms=[bobs["_id"]]))["error"] == "error-no-owner-channel"
    assert (await alice.fails("POST", "teams.addRooms", teamId=team["_id"],
                              rooms=["nope"]))["error"] == "invalid-room"
    secret = await group(bob, "secret")
    assert (await alice.fails("POST", "teams.addRooms", teamId=team["_id"],
                              rooms=[secret["_id"]]))["error"] == "invalid-room"
    assert (await alice.fails("POST", "teams.addRooms", teamId=team["_id"],
                              rooms=[other["roomId"]]))["error"] == "room-already-on-team"
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[mine["_id"]])
    assert (await alice.fails("POST", "teams.addRooms", teamId=other["_id"],
                              rooms=[mine["_id"]]))["error"] == "room-already-on-team"
    assert "teamId" not in await room_of(srv, bobs["_id"])


async def test_remove_room(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    ch = await channel(alice, "side", members=["bob"])
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[ch["_id"]])
    r = await bob.post("teams.removeRoom", teamId=team["_id"], roomId=ch["_id"])
    assert r.status_code == 403
    room = (await alice.ok("POST", "teams.removeRoom", teamId=team["_id"], roomId=ch["_id"]))["room"]
    assert room["_id"] == ch["_id"] and "teamId" not in room and "teamDefault" not in room
    await settle(srv)
    assert "teamId" not in await room_of(srv, ch["_id"])
    assert "teamId" not in await sub_of(srv, ch["_id"], bob.id)
    assert (await alice.fails("POST", "teams.removeRoom", teamId=team["_id"],
                              roomId=ch["_id"]))["error"] == "room-not-on-that-team"
    assert (await alice.fails("POST", "teams.removeRoom", teamId=team["_id"],
                              roomId=team["roomId"]))["error"] == "error-cannot-remove-team-main-room"
    assert (await alice.fails("POST", "teams.removeRoom", teamId=team["_id"],
                              roomId="nope"))["error"] == "invalid-room"


async def test_auto_join_rooms(srv, alice, bob, carol):
    team = await make_team(alice, "crew", members=[bob.id])
    ch = await channel(alice, "announcements")
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[ch["_id"]])
    r = await bob.post("teams.updateRoom", roomId=ch["_id"], isDefault=True)
    assert r.status_code == 403
    room = (await alice.ok("POST", "teams.updateRoom", roomId=ch["_id"], isDefault=True))["room"]
    assert room["teamDefault"] is True and room["usersCount"] == 2
    assert await sub_of(srv, ch["_id"], bob.id) is not None   # every member joined
    await alice.ok("POST", "teams.addMembers", teamId=team["_id"], members=[{"userId": carol.id}])
    assert await sub_of(srv, ch["_id"], carol.id) is not None   # and so does every new member
    auto = await alice.ok("GET", "teams.listRooms", teamId=team["_id"], type="autoJoin")
    assert [r["_id"] for r in auto["rooms"]] == [ch["_id"]]
    room = (await alice.ok("POST", "teams.updateRoom", roomId=ch["_id"], isDefault=False))["room"]
    assert room["teamDefault"] is False
    lone = await channel(alice, "lone")
    assert (await alice.fails("POST", "teams.updateRoom", roomId=lone["_id"],
                              isDefault=True))["error"] == "room-not-on-team"
    assert (await alice.fails("POST", "teams.updateRoom", roomId="nope", isDefault=True))["error"] == "invalid-room"


async def test_list_rooms_visibility(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    public = await channel(alice, "public-one")
    private = await group(alice, "private-one")
    joined = await group(alice, "private-joined", members=["bob"])
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"],
                   rooms=[public["_id"], private["_id"], joined["_id"]])
    owner_view = await alice.ok("GET", "teams.listRooms", teamId=team["_id"])
    assert {r["name"] for r in owner_view["rooms"]} == {"public-one", "private-one", "private-joined"}
    assert owner_view["total"] == 3 and owner_view["offset"] == 0
    member_view = await bob.ok("GET", "teams.listRooms", teamId=team["_id"])
    assert {r["name"] for r in member_view["rooms"]} == {"public-one", "private-joined"}
    filtered = await alice.ok("GET", "teams.listRooms", teamId=team["_id"], filter="PRIVATE")
    assert {r["name"] for r in filtered["rooms"]} == {"private-one", "private-joined"}
    regexy = await alice.ok("GET", "teams.listRooms", teamId=team["_id"], filter=".*")
    assert regexy["rooms"] == []   # the filter is text, never a pattern
    page = await alice.ok("GET", "teams.listRooms", teamId=team["_id"], count=1, offset=1)
    assert page["count"] == 1 and page["total"] == 3
    secret = await make_team(alice, "secret", 1)
    assert (await bob.fails("GET", "teams.listRooms", teamId=secret["_id"]))["error"] == "user-not-on-private-team"


async def test_list_rooms_of_user(srv, alice, bob, admin):
    team = await make_team(alice, "crew", members=[bob.id])
    a = await channel(alice, "alpha", members=["bob"])
    await group(bob, "beta")
    c = await channel(alice, "gamma")
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[a["_id"], c["_id"]])
    body = await bob.ok("GET", "teams.listRoomsOfUser", teamId=team["_id"], userId=bob.id)
    assert [(r["name"], r["isLastOwner"]) for r in body["rooms"]] == [("alpha", False)]   # not beta: no team room
    assert body["total"] == 1 and body["offset"] == 0
    mine = await alice.ok("GET", "teams.listRoomsOfUser", teamId=team["_id"], userId=alice.id)
    assert {(r["name"], r["isLastOwner"]) for r in mine["rooms"]} == {("alpha", True), ("gamma", True)}
    deletable = await alice.ok("GET", "teams.listRoomsOfUser", teamId=team["_id"], userId=alice.id,
                               canUserDelete="true")
    assert deletable["total"] == 2
    none = await alice.ok("GET", "teams.listRoomsOfUser", teamId=team["_id"], userId=bob.id, canUserDelete="true")
    assert none["rooms"] == []
    r = await bob.get("teams.listRoomsOfUser", teamId=team["_id"], userId=alice.id)
    assert r.status_code == 403
    await admin.ok("GET", "teams.listRoomsOfUser", teamId=team["_id"], userId=alice.id)


async def test_delete_team(srv, alice, bob):
    events = await Events().attach(srv, "watch.rooms")
    team = await make_team(alice, "crew", members=[bob.id])
    keep = await channel(alice, "keep", members=["bob"])
    drop = await channel(alice, "drop")
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[keep["_id"], drop["_id"]])
    r = await bob.post("teams.delete", teamId=team["_id"])
    assert r.status_code == 403 and r.json()["error"] == "unauthorized"
    await alice.ok("POST", "teams.delete", teamId=team["_id"], roomsToRemove=[drop["_id"], team["roomId"]])
    await settle(srv)
    assert await room_of(srv, team["roomId"]) is None and await room_of(srv, drop["_id"]) is None
    kept = await room_of(srv, keep["_id"])
    assert kept is not None and "teamId" not in kept
    assert "teamId" not in await sub_of(srv, keep["_id"], bob.id)
    assert await srv.kernel.db["rocketchat_team"].count_documents({}) == 0
    assert await srv.kernel.db["rocketchat_team_member"].count_documents({}) == 0
    assert events.rooms(team["roomId"])[-1]["clientAction"] == "removed"
    assert (await alice.fails("POST", "teams.delete", teamId=team["_id"]))["error"] == "team-does-not-exist"


async def test_delete_refuses_rooms_the_caller_may_not_erase(srv, alice, bob, admin):
    team = await make_team(alice, "crew", members=[bob.id])
    bobs = await channel(bob, "bobs")
    await admin.ok("POST", "teams.addMembers", teamId=team["_id"], members=[{"userId": bob.id, "roles": ["owner"]}])
    await bob.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[bobs["_id"]])
    body = await alice.fails("POST", "teams.delete", teamId=team["_id"], roomsToRemove=[bobs["_id"]])
    assert body["errorType"] == "error-not-allowed"
    assert await room_of(srv, team["roomId"]) is not None and await room_of(srv, bobs["_id"]) is not None


async def test_deleting_the_main_room_deletes_the_team(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    side = await channel(alice, "side")
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[side["_id"]])
    await alice.ok("POST", "channels.delete", roomId=team["roomId"])
    await settle(srv)
    assert await srv.kernel.db["rocketchat_team"].count_documents({}) == 0
    assert await srv.kernel.db["rocketchat_team_member"].count_documents({}) == 0
    assert "teamId" not in await room_of(srv, side["_id"])


async def test_convert_team_to_channel(srv, alice, bob):
    team = await make_team(alice, "crew", members=[bob.id])
    keep = await channel(alice, "keep")
    drop = await channel(alice, "drop")
    await alice.ok("POST", "teams.addRooms", teamId=team["_id"], rooms=[keep["_id"], drop["_id"]])
    r = await bob.post("teams.convertToChannel", teamId=team["_id"])
    assert r.status_code == 403
    await alice.ok("POST", "teams.convertToChannel", teamName="crew", roomsToRemove=[drop["_id"]])
    await settle(srv)
    main = (await alice.ok("GET", "channels.info", roomId=team["roomId"]))["channel"]
    assert "teamId" not in main and "teamMain" not in main
    assert "teamMain" not in await sub_of(srv, team["roomId"], bob.id)
    assert await room_of(srv, drop["_id"]) is None and "teamId" not in await room_of(srv, keep["_id"])
    assert await srv.kernel.db["rocketchat_team"].count_documents({}) == 0
    messages = (await alice.ok("GET", "channels.messages", roomId=team["roomId"]))["messages"]
    assert "user-converted-to-channel" in {m.get("t") for m in messages}
    assert (await alice.fails("GET", "teams.members", teamId=team["_id"]))["error"] == "team-does-not-exist"
