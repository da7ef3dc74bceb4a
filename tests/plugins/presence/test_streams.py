"""Status changes reach other websocket clients (`stream-notify-logged` `user-status`, `stream-user-presence`)
through the ddp_streamer plugin, and REST logins leave presence alone."""
import asyncio

from tests.plugins.presence.conftest import connections, create_user, login, user_doc, wait_status


def user_status_event(uid: str, code: int):
    def match(msg: dict) -> bool:
        fields = msg.get("fields") or {}
        return (msg.get("msg") == "changed" and msg.get("collection") == "stream-notify-logged"
                and fields.get("eventName") == "user-status" and fields["args"][0][0] == uid
                and fields["args"][0][2] == code)
    return match


def presence_event(uid: str, code: int):
    def match(msg: dict) -> bool:
        return (msg.get("collection") == "stream-user-presence" and msg.get("id") == uid
                and msg["fields"]["args"][0][1] == code)
    return match


async def test_watcher_sees_login_status_changes_and_logout(srv):
    alice = await create_user(srv, "alice", name="Alice A")
    bob = await create_user(srv, "bob")
    watcher = await login(srv, bob)
    assert (await watcher.sub("stream-notify-logged", "user-status", False))["msg"] == "ready"

    client = await login(srv, alice)
    msg = await watcher.expect(user_status_event(alice.id, 1))
    assert msg["fields"]["args"] == [[alice.id, "alice", 1, "", "Alice A", ["user"]]]

    await client.call("UserPresence:away")
    await watcher.expect(user_status_event(alice.id, 2))

    await client.call("setUserStatus", "busy", "Deep work")
    msg = await watcher.expect(user_status_event(alice.id, 3))
    assert msg["fields"]["args"][0][:4] == [alice.id, "alice", 3, "Deep work"]

    await client.close()
    msg = await watcher.expect(user_status_event(alice.id, 0))
    assert msg["fields"]["args"][0][:4] == [alice.id, "alice", 0, "Deep work"]


async def test_invisible_user_looks_offline_to_watchers(srv):
    carol = await create_user(srv, "carol")
    dave = await create_user(srv, "dave")
    watcher = await login(srv, dave)
    await watcher.sub("stream-notify-logged", "user-status", False)
    client = await login(srv, carol)
    await watcher.expect(user_status_event(carol.id, 1))
    await client.call("UserPresence:setDefaultStatus", "offline")
    await watcher.expect(user_status_event(carol.id, 0))


async def test_user_presence_stream(srv):
    erin = await create_user(srv, "erin")
    frank = await create_user(srv, "frank")
    watcher = await login(srv, frank)
    reply = await watcher.sub("stream-user-presence", "", {"added": [erin.id]})
    assert reply["msg"] == "ready"
    client = await login(srv, erin)
    msg = await watcher.expect(presence_event(erin.id, 1))
    assert msg["fields"]["args"] == [["erin", 1, ""]]
    await client.call("UserPresence:setDefaultStatus", "busy")
    await watcher.expect(presence_event(erin.id, 3))


async def test_rest_login_creates_no_connection(srv):
    gina = await create_user(srv, "gina", password="gina-secret-1")
    r = await srv.http.post("/api/v1/login", json={"user": "gina", "password": "gina-secret-1"})
    assert r.status_code == 200, r.text
    await asyncio.sleep(0.2)
    assert await connections(srv, gina) == []
    assert (await user_doc(srv, gina))["status"] == "offline"


async def test_rest_set_status_reaches_watchers(srv):
    hank = await create_user(srv, "hank")
    ivy = await create_user(srv, "ivy")
    watcher = await login(srv, ivy)
    await watcher.sub("stream-notify-logged", "user-status", False)
    await login(srv, hank)
    await watcher.expect(user_status_event(hank.id, 1))
    r = await srv.http.post("/api/v1/users.setStatus", headers=hank.headers,
                            json={"status": "away", "message": "Back at 3"})
    assert r.status_code == 200, r.text
    msg = await watcher.expect(user_status_event(hank.id, 2))
    assert msg["fields"]["args"][0][3] == "Back at 3"
    await wait_status(srv, hank, "away", statusDefault="away", statusText="Back at 3")
    r = await srv.http.get("/api/v1/users.getStatus", headers=hank.headers)
    assert r.json()["status"] == "away" and r.json()["connectionStatus"] == "online"
