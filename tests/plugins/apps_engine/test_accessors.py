"""Accessors served to a real sandboxed app: persistence scoped to the app, readers, modifier and notifier,
UIKit pushes, outgoing HTTP behind the SSRF guard, the app's settings and its scheduled jobs."""
from __future__ import annotations

import asyncio
import json

import pytest

from tests.plugins.apps_engine.conftest import build_zip


async def call(world, accessor: str, *args, app: str = "toolbox", **kwargs) -> dict:
    r = await world.srv.http.post(f"/api/apps/public/{app}/call",
                                  json={"accessor": accessor, "args": list(args), "kwargs": kwargs})
    assert r.status_code == 200, r.text
    return r.json()


async def ok(world, accessor: str, *args, **kwargs):
    answer = await call(world, accessor, *args, **kwargs)
    assert answer["ok"], answer
    return answer["result"]


async def refused(world, accessor: str, *args, **kwargs) -> str:
    answer = await call(world, accessor, *args, **kwargs)
    assert not answer["ok"], answer
    return answer["error"]


@pytest.fixture
async def toolbox(world):
    await world.admin.installed(build_zip("toolbox"))
    return world


async def test_persistence_is_scoped_to_the_app(toolbox):
    w = toolbox
    rid = await ok(w, "persistence.create", {"n": 1}, ["room:R1", "misc"])
    await ok(w, "persistence.create", {"n": 2}, ["room:R1"])
    assert await ok(w, "persistence.read", rid) == {"n": 1}
    assert sorted(r["n"] for r in await ok(w, "persistence.find", "room:R1")) == [1, 2]
    await ok(w, "persistence.update", rid, {"n": 10})
    assert await ok(w, "persistence.read", rid) == {"n": 10}
    assert "non-empty string" in await refused(w, "persistence.read", {"$ne": None})
    assert "non-empty string" in await refused(w, "persistence.find", {"$exists": True})
    assert "must be an object" in await refused(w, "persistence.create", "not a dict")
    await w.admin.installed(build_zip("toolbox", manifest={"id": "toolbox-two", "name": "Toolbox Two"}))
    assert await ok(w, "persistence.read", rid, app="toolbox-two") is None
    assert await ok(w, "persistence.find", "room:R1", app="toolbox-two") == []
    assert "no record" in await refused(w, "persistence.update", rid, {"n": 0}, app="toolbox-two")
    await ok(w, "persistence.remove", rid, app="toolbox-two")
    assert await ok(w, "persistence.read", rid) == {"n": 10}
    assert await ok(w, "persistence.remove_by_association", "room:R1") == 2
    assert await ok(w, "persistence.find", "misc") == []


async def test_readers_modifier_and_ui(toolbox):
    w = toolbox
    events: dict[str, list] = {"notify.ephemeralMessage": [], "notify.uiInteraction": []}
    for name, bucket in events.items():
        await w.srv.kernel.broker.subscribe(name, bucket.append)
    room = await ok(w, "reader.get_room", w.rid)
    assert room["name"] == "general-talk"
    assert (await ok(w, "reader.get_room_by_name", "general-talk"))["_id"] == w.rid
    user = await ok(w, "reader.get_user", w.alice.id)
    assert user["username"] == "alice" and "services" not in user
    assert (await ok(w, "reader.get_user_by_username", "alice"))["_id"] == w.alice.id
    members = await ok(w, "reader.get_room_members", w.rid)
    assert {"root", "alice"} <= {m["username"] for m in members} and all("services" not in m for m in members)
    assert await ok(w, "reader.get_server_setting", "Apps_Framework_enabled") is True
    assert "not readable" in await refused(w, "reader.get_server_setting", "DDP_Heartbeat_Interval")
    assert "not readable" in await refused(w, "reader.get_server_setting", "no-such-setting")
    assert "not readable" in await refused(w, "reader.get_server_setting", "Accounts_RegistrationForm_SecretURL")

    sent = await ok(w, "modifier.send_message", w.rid, "from the app", alias="Tool")
    assert sent["u"]["username"] == "toolbox.bot" and sent["msg"] == "from the app" and sent["alias"] == "Tool"
    assert (await ok(w, "reader.get_message", sent["_id"]))["msg"] == "from the app"
    await ok(w, "modifier.notify_user", w.alice.id, w.rid, "just for you")
    assert events["notify.ephemeralMessage"][-1]["uid"] == w.alice.id
    assert events["notify.ephemeralMessage"][-1]["message"]["msg"] == "just for you"
    await ok(w, "ui.open_modal", {"title": {"type": "plain_text", "text": "Hi"}, "blocks": []}, "trigger-1", w.alice.id)
    push = events["notify.uiInteraction"][-1]
    assert push["uid"] == w.alice.id and push["interaction"]["type"] == "modal.open"
    assert push["interaction"]["view"]["appId"] == "toolbox" and push["interaction"]["triggerId"] == "trigger-1"
    assert "room_type" in await refused(w, "modifier.create_room", "x", "nope")


async def test_post_hook_and_settings(toolbox):
    w = toolbox
    assert (await w.alice.send(w.rid, "seen by the app")).status_code == 200
    persistence = w.srv.kernel.db["rocketchat_apps_persistence"]
    seen = await w.wait_for(lambda: persistence.find_one({"appId": "toolbox", "associations": "seen"}))
    assert seen["data"] == {"msg": "seen by the app", "by": "alice"}

    assert await ok(w, "settings.get", "greeting") == "hello"
    events = []
    await w.srv.kernel.broker.subscribe("apps.settingUpdated", events.append)
    body = await w.admin.ok("POST", "/api/apps/toolbox/settings",
                            json={"settings": [{"id": "greeting", "value": "hi there"}, {"id": "loud", "value": True}]})
    assert [s["value"] for s in body["updated"]] == ["hi there", True]
    assert await ok(w, "settings.get", "greeting") == "hi there"
    await w.wait_for(lambda: _at_least(persistence.count_documents({"associations": "settings"}), 2))
    assert [e[0] for e in events] == ["toolbox", "toolbox"] and events[0][1]["id"] == "greeting"
    one = await w.admin.ok("GET", "/api/apps/toolbox/settings/loud")
    assert one["setting"]["value"] is True
    assert (await w.admin.ok("GET", "/api/apps/toolbox/settings"))["settings"]["greeting"]["value"] == "hi there"
    bad = await w.admin.request("POST", "/api/apps/toolbox/settings", json={"settings": [{"id": "loud", "value": "x"}]})
    assert bad.status_code == 400
    unknown = await w.admin.request("POST", "/api/apps/toolbox/settings/nope", json={"setting": {"value": 1}})
    assert unknown.status_code == 400


async def test_scheduler_one_off_and_recurring(toolbox):
    w = toolbox
    ticks = w.srv.kernel.db["rocketchat_apps_persistence"]
    once = await ok(w, "scheduler.schedule_once", "tick", 0, {"note": "once"})
    await w.wait_for(lambda: ticks.find_one({"data.job": once}), what="one-off job")
    jobs = w.srv.kernel.db["rocketchat_apps_scheduler"]
    await w.wait_for(lambda: _gone(jobs.find_one({"_id": once})), what="one-off job removed after its run")
    later = await ok(w, "scheduler.schedule_once", "tick", "in 1 hour")
    job = await ok(w, "scheduler.schedule_recurring", "tick", 1, {"note": "again"})
    await w.wait_for(lambda: ticks.count_documents({"data.job": job}), what="first run")

    async def runs() -> int:
        return await ticks.count_documents({"data.job": job})
    await w.wait_for(lambda: _at_least(runs(), 2), timeout=10, what="second run")
    await ok(w, "scheduler.cancel", job)
    settled = await runs()
    await asyncio.sleep(1.5)
    assert await runs() <= settled + 1   # at most a run already claimed when it was cancelled
    assert await w.srv.kernel.db["rocketchat_apps_scheduler"].find_one({"_id": later}) is not None
    await ok(w, "scheduler.cancel_all")
    assert await w.srv.kernel.db["rocketchat_apps_scheduler"].count_documents({}) == 0
    assert "no processor" in await refused(w, "scheduler.schedule_once", "nope", 0)
    assert "at least" in await refused(w, "scheduler.schedule_recurring", "tick", 0)


async def _gone(found) -> bool:
    return (await found) is None


async def _at_least(count, n: int) -> bool:
    return (await count) >= n


class TinyHttp:
    """A local HTTP server (loopback: the guard refuses it unless private networks are allowed)."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.hits = 0

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.hits += 1
        path = head.split(b" ")[1].decode()
        if path.startswith("/big"):
            body, kind = b"x" * 10_000, b"text/plain"
        elif path.startswith("/redirect"):
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: http://10.255.255.1/\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        else:
            body, kind = json.dumps({"path": path}).encode(), b"application/json"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


async def test_http_guard(toolbox):
    w = toolbox
    tiny = TinyHttp()
    base = await tiny.start()
    try:
        for url in (base + "/x", "http://localhost:9/", "http://[::1]:9/", "http://169.254.169.254/latest/meta-data",
                    "http://10.0.0.1/", "http://0.0.0.0:9/"):
            error = await refused(w, "http.get", url)
            assert "private or local" in error, (url, error)
        assert "scheme" in await refused(w, "http.get", "file:///etc/passwd")
        assert tiny.hits == 0
        await w.admin.ok("POST", "settings/Apps_Allow_Private_Network", json={"value": True})
        answer = await ok(w, "http.get", base + "/hello", params={"q": "1"})
        assert answer["status"] == 200 and answer["data"] == {"path": "/hello?q=1"}
        await w.admin.ok("POST", "settings/Apps_Http_Max_Response_KB", json={"value": 1})
        assert "limit" in await refused(w, "http.get", base + "/big")
        await w.admin.ok("POST", "settings/Apps_Allow_Private_Network", json={"value": False})
        assert "private or local" in await refused(w, "http.get", base + "/again")
    finally:
        await tiny.stop()


async def test_url_install_is_admin_only_and_guarded(toolbox):
    w = toolbox
    package = build_zip("crasher")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nContent-Length: "
                     + str(len(package)).encode() + b"\r\nConnection: close\r\n\r\n" + package)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/crasher.zip"
    try:
        guarded = await w.admin.request("POST", "/api/apps", json={"url": url})
        assert guarded.status_code == 400 and "private or local" in guarded.json()["error"], guarded.text
        await w.admin.ok("POST", "settings/Apps_Allow_Private_Network", json={"value": True})
        await w.admin.ok("POST", "permissions.update",
                         json={"permissions": [{"_id": "manage-apps", "roles": ["admin", "user"]}]})
        assert (await w.alice.request("GET", "/api/apps/crasher")).status_code == 404   # she may manage apps
        assert (await w.alice.request("POST", "/api/apps", json={"url": url})).status_code == 403
        installed = await w.admin.ok("POST", "/api/apps", json={"url": url})
        assert installed["app"]["id"] == "crasher" and installed["app"]["status"] == "manually_enabled"
    finally:
        server.close()


async def test_slash_command_preview(toolbox):
    w = toolbox
    events = []
    await w.srv.kernel.broker.subscribe("notify.ephemeralMessage", events.append)
    preview = await w.alice.ok("GET", "commands.preview", params={"command": "pick", "roomId": w.rid, "params": "a b"})
    assert preview["preview"] == {"i18nTitle": "pick", "items": [{"id": "1", "type": "text", "value": "one a b"}]}
    await w.alice.ok("POST", "commands.preview", json={"command": "pick", "roomId": w.rid, "params": "a b",
                                                       "previewItem": {"id": "1", "type": "text", "value": "one"}})
    await w.wait_for(lambda: events, what="ephemeral message")
    assert events[0]["message"]["msg"] == "picked one" and events[0]["uid"] == w.alice.id
