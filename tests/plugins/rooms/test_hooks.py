"""Room hooks: every rooms hookspec has an implementation here that is called with plain Rocket.Chat-shaped
documents, and the `pre_*_prevent` answers are honoured (first refusal wins, 400 with its reason)."""
from __future__ import annotations

from typing import Any

import pytest

from core import hookimpl
from tests.plugins.rooms.conftest import PLUGINS, Caller, settle
from tests.users import create_user


class RoomRules:
    """A plugin (as an app would be) that refuses some rooms and joins and records what it is told."""

    name = "room_rules"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def seen(self, hook: str) -> list[dict[str, Any]]:
        return [kw for name, kw in self.calls if name == hook]

    @hookimpl
    async def pre_room_created_prevent(self, room: dict, ctx: Any) -> bool | str | None:
        self.calls.append(("pre_room_created_prevent", {"room": room, "ctx": ctx}))
        if room.get("name", "").startswith("forbidden"):
            return "Rooms named forbidden-* are not allowed here"
        if room.get("name") == "silently-refused":
            return True
        return None

    @hookimpl
    async def post_room_created(self, room: dict, ctx: Any) -> None:
        self.calls.append(("post_room_created", {"room": room, "ctx": ctx}))

    @hookimpl
    async def pre_room_user_joined_prevent(self, room: dict, user: dict, inviter: dict | None,
                                           ctx: Any) -> bool | str | None:
        self.calls.append(("pre_room_user_joined_prevent", {"room": room, "user": user, "inviter": inviter}))
        return "carol may not join" if user.get("username") == "carol" else None

    @hookimpl
    async def post_room_user_joined(self, room: dict, user: dict, inviter: dict | None, ctx: Any) -> None:
        self.calls.append(("post_room_user_joined", {"room": room, "user": user, "inviter": inviter}))

    @hookimpl
    async def post_room_user_left(self, room: dict, user: dict, remover: dict | None, ctx: Any) -> None:
        self.calls.append(("post_room_user_left", {"room": room, "user": user, "remover": remover}))

    @hookimpl
    async def post_room_deleted(self, room: dict, ctx: Any) -> None:
        self.calls.append(("post_room_deleted", {"room": room, "ctx": ctx}))


@pytest.fixture
async def hooked(server_factory):
    rules = RoomRules()
    srv = await server_factory(plugins=(*PLUGINS, rules), env={"ORBITCHAT_BCRYPT_ROUNDS": "4"})
    users = [Caller(srv, await create_user(srv, name)) for name in ("alice", "bob", "carol")]
    return srv, rules, *users


async def test_hook_pre_room_created_prevent(hooked):
    srv, rules, alice, _bob, _carol = hooked
    r = await alice.post("channels.create", name="forbidden-zone")
    assert r.status_code == 400
    assert r.json() == {"success": False, "errorType": "error-app-prevented",
                        "error": "Rooms named forbidden-* are not allowed here [error-app-prevented]"}
    r = await alice.post("groups.create", name="silently-refused")
    assert r.json()["error"] == "A Rocket.Chat App prevented the room creation. [error-app-prevented]"
    assert await srv.kernel.db["rocketchat_room"].count_documents({}) == 0
    seen = rules.seen("pre_room_created_prevent")[0]
    assert seen["room"]["t"] == "c" and seen["room"]["_USERNAMES"] == ["alice"]
    assert seen["ctx"].user_id == alice.id
    ws = await alice.ddp()
    reply = await ws.call("createDirectMessage", "bob")
    assert "result" in reply   # DMs go through the same hook; this one is allowed
    assert rules.seen("pre_room_created_prevent")[-1]["room"]["t"] == "d"


async def test_hook_post_room_created(hooked):
    srv, rules, alice, _bob, _carol = hooked
    ch = (await alice.ok("POST", "channels.create", name="made", members=["bob"]))["channel"]
    await settle(srv)
    room = rules.seen("post_room_created")[0]["room"]
    assert room["_id"] == ch["_id"] and room["usersCount"] == 2 and room["u"]["username"] == "alice"
    assert isinstance(room, dict) and "joinCode" not in room


async def test_hook_pre_room_user_joined_prevent(hooked):
    _srv, rules, alice, _bob, carol = hooked
    ch = (await alice.ok("POST", "channels.create", name="club", members=["bob", "carol"]))["channel"]
    assert ch["usersCount"] == 2   # carol refused at creation: skipped, as Rocket.Chat does
    r = await carol.post("channels.join", roomId=ch["_id"])
    assert r.status_code == 400
    assert r.json()["error"] == "carol may not join [error-app-prevented]"
    r = await alice.post("channels.invite", roomId=ch["_id"], username="carol")
    assert r.json()["errorType"] == "error-app-prevented"
    refused = [c for c in rules.seen("pre_room_user_joined_prevent") if c["user"]["username"] == "carol"]
    assert refused[-1]["inviter"]["username"] == "alice" and refused[-2]["inviter"] is None
    assert "services" not in refused[-1]["user"]


async def test_hook_post_room_user_joined(hooked):
    srv, rules, alice, bob, _carol = hooked
    ch = (await alice.ok("POST", "channels.create", name="open-door"))["channel"]
    await bob.ok("POST", "channels.join", roomId=ch["_id"])
    await settle(srv)
    joined = rules.seen("post_room_user_joined")
    assert [(j["user"]["username"], j["inviter"]) for j in joined] == [("bob", None)]
    assert joined[0]["room"]["_id"] == ch["_id"] and joined[0]["room"]["usersCount"] == 2


async def test_hook_post_room_user_left(hooked):
    srv, rules, alice, bob, _carol = hooked
    ch = (await alice.ok("POST", "channels.create", name="exit", members=["bob"]))["channel"]
    await bob.ok("POST", "channels.leave", roomId=ch["_id"])
    await alice.ok("POST", "channels.invite", roomId=ch["_id"], username="bob")
    await alice.ok("POST", "channels.kick", roomId=ch["_id"], username="bob")
    await settle(srv)
    left = rules.seen("post_room_user_left")
    assert [(x["user"]["username"], (x["remover"] or {}).get("username")) for x in left] == [
        ("bob", None), ("bob", "alice")]


async def test_hook_post_room_deleted(hooked):
    srv, rules, alice, _bob, _carol = hooked
    ch = (await alice.ok("POST", "channels.create", name="doomed"))["channel"]
    await alice.ok("POST", "channels.delete", roomId=ch["_id"])
    await settle(srv)
    deleted = rules.seen("post_room_deleted")
    assert [d["room"]["_id"] for d in deleted] == [ch["_id"]] and deleted[0]["ctx"].user_id == alice.id
