"""Install, disable, enable, update and uninstall through REST, each taking effect on the next message, with no
restart; and a restarted server starts the installed apps again."""
from __future__ import annotations

import tomllib

from tests.plugins.apps_engine.conftest import PLUGINS, build_zip


async def test_install_takes_effect_on_next_message(world):
    admin, alice = world.admin, world.alice
    assert (await alice.send(world.rid, "a badword before")).status_code == 200
    body = await admin.installed(build_zip("wordfilter"))
    assert body["app"]["id"] == "word-filter" and body["app"]["status"] == "manually_enabled"
    assert body["app"]["version"] == "1.0.0" and body["app"]["iconFileContent"].startswith("data:image/png;base64,")
    assert body["implemented"] == {"pre_message_sent_prevent": True, "pre_message_sent_modify": True}
    refused = await alice.send(world.rid, "a badword after")
    assert refused.status_code == 400 and refused.json()["errorType"] == "error-app-prevented", refused.text
    assert refused.json()["details"] == {"reason": "contains badword"}
    softened = await alice.send(world.rid, "oh darn")
    assert softened.json()["message"]["msg"] == "oh ****"

    record = await world.record("word-filter")
    assert record["status"] == "manually_enabled" and record["info"]["nameSlug"] == "word-filter"
    assert record["packageHash"].startswith("sha256:") and record["_id"] != "word-filter"
    assert record["settings"]["replacement"]["packageValue"] == "****"
    stored = await world.srv.kernel.db["rocketchat_apps_packages.files"].find_one({"_id": record["packageFileId"]})
    assert stored["metadata"] == {"appId": "word-filter", "hash": record["packageHash"]}
    bot = await world.srv.kernel.db["users"].find_one({"username": "word-filter.bot"})
    assert bot["type"] == "app" and bot["roles"] == ["app"] and bot["appId"] == "word-filter"
    package_dir = world.srv.kernel.api.data_dir / "apps" / "word-filter" / "1.0.0"
    assert (package_dir / "app.py").is_file() and not (package_dir / "app.py").stat().st_mode & 0o222
    lock = tomllib.loads(world.lock_path.read_text())
    assert lock["apps"]["word-filter"] == {"name": "Word Filter", "version": "1.0.0", "hash": record["packageHash"],
                                           "enabled": True}
    listed = await alice.ok("GET", "/api/apps/installed")
    assert [a["id"] for a in listed["apps"]] == ["word-filter"]
    icon = await alice.request("GET", "/api/apps/word-filter/icon")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    assert icon.content.startswith(b"\x89PNG")


async def test_disable_stops_and_enable_brings_back(world):
    admin, alice = world.admin, world.alice
    await admin.installed(build_zip("wordfilter"))
    app = world.engine.running["word-filter"]
    assert await admin.status("word-filter", "manually_disabled") == "manually_disabled"
    assert world.srv.kernel.pm.get_plugin("app:word-filter") is None
    assert not app.sandbox.process.alive and "word-filter" not in world.engine.running
    assert (await alice.send(world.rid, "badword while disabled")).status_code == 200
    assert (await admin.ok("GET", "/api/apps/word-filter/status"))["status"] == "manually_disabled"
    assert tomllib.loads(world.lock_path.read_text())["apps"]["word-filter"]["enabled"] is False

    assert await admin.status("word-filter", "manually_enabled") == "manually_enabled"
    assert world.srv.kernel.pm.get_plugin("app:word-filter") is not None
    assert (await alice.send(world.rid, "badword again")).status_code == 400
    assert tomllib.loads(world.lock_path.read_text())["apps"]["word-filter"]["enabled"] is True


async def test_update_makes_the_new_version_live(world):
    admin, alice = world.admin, world.alice
    await admin.installed(build_zip("wordfilter"))
    old = world.engine.running["word-filter"]
    await admin.ok("POST", "/api/apps/word-filter/settings", json={"settings": [{"id": "replacement", "value": "#"}]})
    v2 = build_zip("wordfilter", manifest={"version": "2.0.0"}, replace={'BANNED = "badword"': 'BANNED = "worseword"'})
    body = await admin.installed(v2, "word-filter")
    assert body["app"]["version"] == "2.0.0" and body["app"]["status"] == "manually_enabled"
    assert (await alice.send(world.rid, "badword is fine now")).status_code == 200
    assert (await alice.send(world.rid, "worseword is not")).status_code == 400
    assert (await alice.send(world.rid, "darn")).json()["message"]["msg"] == "#"    # setting value kept
    assert not old.sandbox.process.alive and world.engine.running["word-filter"] is not old
    apps_dir = world.srv.kernel.api.data_dir / "apps" / "word-filter"
    assert sorted(p.name for p in apps_dir.iterdir()) == ["2.0.0", "2.0.0.sha256", "data"]
    record = await world.record("word-filter")
    assert tomllib.loads(world.lock_path.read_text())["apps"]["word-filter"]["hash"] == record["packageHash"]
    files = world.srv.kernel.db["rocketchat_apps_packages.files"]
    assert [f["_id"] async for f in files.find({})] == [record["packageFileId"]]

    # a version that cannot start leaves the running one alone
    broken = build_zip("wordfilter", manifest={"version": "3.0.0"}, replace={"class WordFilter": "class WordFilter("})
    failed = await admin.install(broken, "word-filter")
    assert failed.status_code == 400 and failed.json()["errorType"] == "error-app-update-failed", failed.text
    assert (await alice.send(world.rid, "worseword still refused")).status_code == 400
    assert (await world.record("word-filter"))["info"]["version"] == "2.0.0"


async def test_uninstall_removes_hook_and_data(world):
    admin, alice = world.admin, world.alice
    await admin.installed(build_zip("wordfilter"))
    assert (await alice.send(world.rid, "badword")).status_code == 400
    db = world.srv.kernel.db
    assert await db["rocketchat_apps_persistence"].count_documents({"appId": "word-filter"}) == 1
    await world.wait_for(lambda: db["rocketchat_apps_logs"].count_documents({"appId": "word-filter"}), what="logs")
    process = world.engine.running["word-filter"].sandbox.process

    removed = await admin.ok("DELETE", "/api/apps/word-filter")
    assert removed["app"]["status"] == "disabled"
    assert (await alice.send(world.rid, "badword")).status_code == 200
    assert world.srv.kernel.pm.get_plugin("app:word-filter") is None and not process.alive
    for coll in ("rocketchat_apps", "rocketchat_apps_persistence", "rocketchat_apps_logs",
                 "rocketchat_apps_scheduler", "rocketchat_apps_packages.files"):
        assert await db[coll].count_documents({}) == 0, coll
    assert await db["users"].find_one({"username": "word-filter.bot"}) is None
    assert not (world.srv.kernel.api.data_dir / "apps" / "word-filter").exists()
    assert tomllib.loads(world.lock_path.read_text()).get("apps", {}) == {}
    assert (await admin.request("GET", "/api/apps/word-filter")).status_code == 404


async def test_duplicates_and_unknown_ids(world):
    admin, alice = world.admin, world.alice
    await admin.installed(build_zip("wordfilter"))
    again = await admin.install(build_zip("wordfilter"))
    assert again.status_code == 400 and again.json()["errorType"] == "error-app-already-exists"
    other = await admin.install(build_zip("crasher"), "word-filter")
    assert other.status_code == 400 and other.json()["errorType"] == "error-app-id-mismatch"
    assert (await admin.install(build_zip("crasher"), "crasher")).status_code == 404
    assert (await admin.request("DELETE", "/api/apps/nope")).status_code == 404
    assert (await alice.install(build_zip("crasher"))).status_code == 403
    assert (await alice.request("POST", "/api/apps/word-filter/status",
                                json={"status": "manually_disabled"})).status_code == 403
    bad = await admin.request("POST", "/api/apps/word-filter/status", json={"status": "auto_enabled"})
    assert bad.status_code == 400


async def test_restarted_server_runs_installed_apps(world, server_factory, caplog):
    await world.admin.installed(build_zip("wordfilter"))
    await world.admin.installed(build_zip("crasher"))
    await world.admin.status("crasher", "manually_disabled")
    await world.srv.stop()
    edited = world.lock_path.read_text().replace('version = "1.0.0"', 'version = "0.9.0"', 1)
    world.lock_path.write_text(edited)
    srv = await server_factory(plugins=PLUGINS, env={"ORBITCHAT_BCRYPT_ROUNDS": "4"}, lock_path=world.lock_path)
    assert any("plugin.lock drift: app crasher: version locked '0.9.0'" in r.getMessage() for r in caplog.records)
    assert 'version = "0.9.0"' not in world.lock_path.read_text()
    r = await srv.http.post("/api/v1/chat.sendMessage", json={"message": {"rid": world.rid, "msg": "badword"}},
                            headers=world.alice.user.headers)
    assert r.status_code == 400, r.text
    assert srv.kernel.pm.get_plugin("app:word-filter") is not None
    assert srv.kernel.pm.get_plugin("app:crasher") is None
