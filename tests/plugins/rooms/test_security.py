"""Refusals: operator injection in bodies and query strings (400 before any handler runs), and what a
plain user may not do in someone else's room."""
from __future__ import annotations

OPERATORS = [{"$ne": None}, {"$regex": ".*"}, {"$gt": ""}, ["x", {"$ne": None}], {"$where": "1"}, 17]


async def test_injection_in_bodies_is_refused(srv, alice):
    room = (await alice.ok("POST", "channels.create", name="target"))["channel"]
    for value in OPERATORS:
        await refused_everywhere(alice, room, value)
    assert await srv.kernel.db["rocketchat_room"].count_documents({}) == 1


async def refused_everywhere(alice, room, value):
    attempts = [
        ("channels.join", {"roomId": value}), ("channels.leave", {"roomName": value}),
        ("channels.invite", {"roomId": room["_id"], "username": value}),
        ("channels.kick", {"roomId": room["_id"], "userId": value}),
        ("channels.setTopic", {"roomId": room["_id"], "topic": value if not isinstance(value, str) else {}}),
        ("groups.create", {"name": value}), ("channels.create", {"name": "x", "members": [value]}),
        ("im.create", {"username": value}), ("subscriptions.read", {"rid": value}),
        ("rooms.saveRoomSettings", {"rid": value, "roomTopic": "x"}),
        ("channels.addOwner", {"roomId": room["_id"], "username": value}),
    ]
    for path, body in attempts:
        r = await alice.post(path, body)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["errorType"] == "invalid-params", (path, r.text)


async def test_injection_in_query_strings_is_refused(srv, alice):
    await alice.ok("POST", "channels.create", name="target")
    for path, params in [("channels.info", {"roomId[$ne]": "x"}), ("channels.members", {"roomName[$regex]": "."}),
                         ("subscriptions.getOne", {"roomId[$ne]": ""}), ("rooms.info", {"roomId": ["a", "b"]})]:
        r = await alice.get(path, **params)
        assert r.status_code == 400, (path, r.text)
    for params in [{"query": '{"name": {"$ne": null}}'}, {"query": '{"$where": "1"}'},
                   {"query": '{"joinCode": "x"}'}, {"sort": '{"joinCode": 1}'}, {"fields": '{"$where": 1}'}]:
        r = await alice.get("channels.list", **params)
        assert r.status_code == 400, (params, r.text)


async def test_unknown_body_fields_are_refused(srv, alice):
    r = await alice.post("channels.create", name="x", u={"_id": "someone-else"})
    assert r.status_code == 400
    r = await alice.post("channels.create", name="x", extraData={"msgs": 1000, "u": {"_id": "x"}})
    assert r.status_code == 400
    r = await alice.post("channels.create", name="x", customFields={"$set": "y"})
    assert r.status_code == 400


async def test_plain_user_cannot_administer_someone_elses_room(srv, alice, bob, carol):
    room = (await alice.ok("POST", "channels.create", name="alices", members=["carol"]))["channel"]
    rid = room["_id"]
    await bob.ok("POST", "channels.join", roomId=rid)
    refusals = {
        "channels.setTopic": {"topic": "mine"}, "channels.rename": {"name": "bobs"},
        "channels.setReadOnly": {"readOnly": True}, "channels.setType": {"type": "p"},
        "channels.archive": {}, "channels.delete": {}, "channels.kick": {"username": "carol"},
        "channels.addOwner": {"username": "bob"}, "channels.addModerator": {"username": "bob"},
        "channels.addLeader": {"username": "bob"}, "channels.removeOwner": {"username": "alice"},
        "channels.invite": {"username": "alice"}, "channels.setJoinCode": {"joinCode": "x"},
        "channels.setAnnouncement": {"announcement": "x"}, "channels.setDescription": {"description": "x"},
    }
    for path, body in refusals.items():
        r = await bob.post(path, roomId=rid, **body)
        assert r.status_code in (400, 403), (path, r.text)
        assert r.json()["errorType"] in ("error-action-not-allowed", "error-not-allowed", "error-not-authorized"), \
            (path, r.text)
    info = (await alice.ok("GET", "channels.info", roomId=rid))["channel"]
    assert info["name"] == "alices" and "topic" not in info and info["ro"] is False and info["usersCount"] == 3
    r = await bob.get("channels.counters", roomId=rid, userId=alice.id)
    assert r.status_code == 403
    r = await bob.get("im.list.everyone")
    assert r.status_code == 403


async def test_requests_without_login_are_401(srv):
    for path in ("channels.list", "subscriptions.get", "rooms.get", "im.list"):
        r = await srv.http.get(f"/api/v1/{path}")
        assert r.status_code == 401, path
    r = await srv.http.post("/api/v1/channels.create", json={"name": "anon"})
    assert r.status_code == 401
