"""Clients hear about app changes on `stream-apps`; a second OrbitChat process sharing the database and a NATS
broker runs the same app set, fetching packages it does not have from storage."""
from __future__ import annotations

from tests.helpers import start_server
from tests.plugins.apps_engine.conftest import ENV, PLUGINS, build_zip, make_world


def apps_frame(name: str):
    def match(m: dict) -> bool:
        return (m.get("msg") == "changed" and m.get("collection") == "stream-apps"
                and m["fields"]["args"][0][0] == name)
    return match


async def test_stream_apps_events(world):
    client = await world.srv.ddp()
    assert "result" in await client.login(world.admin.user.token)
    ready = await client.sub("stream-apps", "apps", {"useCollection": False, "args": []})
    assert ready["msg"] == "ready"
    await world.admin.installed(build_zip("wordfilter"))
    added = await client.expect(apps_frame("app/added"))
    assert added["fields"]["args"] == [["app/added", ["word-filter"]]]
    status = await client.expect(apps_frame("app/statusUpdate"))
    assert status["fields"]["args"][0][1] == [{"appId": "word-filter", "status": "manually_enabled"}]
    assert (await client.expect(apps_frame("command/added")))["fields"]["args"][0][1] == ["filterstats"]
    await world.admin.status("word-filter", "manually_disabled")
    disabled = await client.expect(apps_frame("app/statusUpdate"))
    assert disabled["fields"]["args"][0][1] == [{"appId": "word-filter", "status": "manually_disabled"}]
    assert (await client.expect(apps_frame("command/removed")))["fields"]["args"][0][1] == ["filterstats"]
    await world.admin.installed(build_zip("wordfilter", manifest={"version": "1.1.0"}), "word-filter")
    await client.expect(apps_frame("app/updated"))
    await world.admin.ok("POST", "/api/apps/word-filter/settings",
                         json={"settings": [{"id": "replacement", "value": "!"}]})
    setting = await client.expect(apps_frame("app/settingUpdated"))
    assert setting["fields"]["args"][0][1][0]["setting"]["value"] == "!"
    await world.admin.ok("DELETE", "/api/apps/word-filter")
    assert (await client.expect(apps_frame("app/removed")))["fields"]["args"][0][1] == ["word-filter"]


async def test_second_process_runs_the_same_apps(server_factory, tmp_path, mongo_url, db_name, nats_url):
    world = await make_world(server_factory, tmp_path, broker_url=nats_url)
    other = await start_server(mongo_url, db_name, PLUGINS, ENV, data_dir=tmp_path / "b", broker_url=nats_url,
                               lock_path=tmp_path / "b.lock")
    try:
        engine_b = next(p for n, p in other.kernel.selection.plugins if n == "apps_engine").engine

        async def send_b(text: str) -> int:
            r = await other.http.post("/api/v1/chat.sendMessage", json={"message": {"rid": world.rid, "msg": text}},
                                      headers=world.alice.user.headers)
            return r.status_code

        await world.admin.installed(build_zip("wordfilter"))
        await world.wait_for(lambda: "word-filter" in engine_b.running, what="process B to start the app")
        assert await send_b("badword via B") == 400
        assert (tmp_path / "b" / "apps" / "word-filter" / "1.0.0" / "app.py").is_file()
        assert other.kernel.pm.get_plugin("app:word-filter") is not None

        v2 = build_zip("wordfilter", manifest={"version": "2.0.0"}, replace={'BANNED = "badword"': 'BANNED = "nope"'})
        await world.admin.installed(v2, "word-filter")
        await world.wait_for(lambda: engine_b.running["word-filter"].manifest["version"] == "2.0.0", what="update")
        assert await send_b("badword via B") == 200 and await send_b("nope via B") == 400

        await world.admin.status("word-filter", "manually_disabled")
        await world.wait_for(lambda: "word-filter" not in engine_b.running, what="disable in B")
        assert await send_b("nope via B") == 200
        await world.admin.status("word-filter", "manually_enabled")
        await world.wait_for(lambda: "word-filter" in engine_b.running, what="enable in B")

        await world.admin.ok("DELETE", "/api/apps/word-filter")
        await world.wait_for(lambda: "word-filter" not in engine_b.running, what="uninstall in B")
        await world.wait_for(lambda: not (tmp_path / "b" / "apps" / "word-filter").exists(), what="files gone in B")
        assert await send_b("nope via B") == 200
    finally:
        await other.stop()
