"""What apps add besides hooks: HTTP endpoints, slash commands; how two apps on one hook combine; and what an
app without a permission cannot do."""
from __future__ import annotations

import time

from tests.plugins.apps_engine.conftest import build_zip


async def test_app_endpoint_round_trip(world):
    admin, alice = world.admin, world.alice
    await admin.installed(build_zip("wordfilter"))
    assert (await alice.send(world.rid, "badword")).status_code == 400
    r = await world.srv.http.post("/api/apps/public/word-filter/stats?x=1&tag=a&tag=b", json={"hello": "world"})
    assert r.status_code == 200 and r.headers["x-filter"] == "badword"
    assert r.json() == {"refused": 1, "method": "post", "query": {"x": "1", "tag": ["a", "b"]},
                        "body": {"hello": "world"}, "user": None, "sawToken": False}
    assert "success" not in r.json()   # no REST envelope around an app's answer
    assert r.headers["content-security-policy"].startswith("sandbox ")   # its pages get an opaque origin
    r = await alice.request("GET", "/api/apps/public/word-filter/stats")
    assert r.json()["user"] == "alice" and r.json()["sawToken"] is False and r.json()["body"] is None
    text = await world.srv.http.post("/api/apps/public/word-filter/stats", content=b"plain words",
                                     headers={"Content-Type": "text/plain"})
    assert text.json()["body"] == "plain words"
    item = await world.srv.http.get("/api/apps/public/word-filter/items/42")
    assert item.status_code == 201 and item.text == "item 42" and item.headers["content-type"].startswith("text/plain")

    record = await world.record("word-filter")
    private = await world.srv.http.get(f"/api/apps/private/word-filter/{record['_id']}/stats")
    assert private.status_code == 200 and private.json()["refused"] == 1
    apis = await admin.ok("GET", "/api/apps/word-filter/apis")
    assert {a["path"] for a in apis["apis"]} == {"stats", "items/:item"}
    assert apis["apis"][0]["computedPath"].startswith(f"/api/apps/private/word-filter/{record['_id']}/")
    for path in ("/api/apps/private/word-filter/wrong-hash/stats", "/api/apps/public/word-filter/nothing",
                 "/api/apps/public/no-such-app/stats"):
        assert (await world.srv.http.get(path)).status_code == 404, path
    assert (await world.srv.http.delete("/api/apps/public/word-filter/stats")).status_code == 405
    await admin.status("word-filter", "manually_disabled")
    assert (await world.srv.http.get("/api/apps/public/word-filter/stats")).status_code == 404


async def test_slash_command(world):
    admin, alice = world.admin, world.alice
    await admin.installed(build_zip("wordfilter"))
    listed = await alice.ok("GET", "commands.list")
    assert {"command": "filterstats", "params": "[room]", "description": "Refusal count", "clientOnly": False,
            "providesPreview": False, "appId": "word-filter"} in listed["commands"]
    got = await alice.ok("GET", "commands.get", params={"command": "filterstats"})
    assert got["command"]["appId"] == "word-filter"
    assert (await alice.send(world.rid, "badword")).status_code == 400
    await alice.ok("POST", "commands.run", json={"command": "filterstats", "roomId": world.rid, "params": "x y"})
    message = await world.srv.kernel.db["rocketchat_message"].find_one({"rid": world.rid, "u.username": "word-filter.bot"})
    assert message is not None and message["msg"] == "refused 1 (args x y)"
    unknown = await alice.request("POST", "commands.run", json={"command": "nope", "roomId": world.rid})
    assert unknown.status_code == 400
    elsewhere = await alice.request("POST", "commands.run", json={"command": "filterstats", "roomId": "NOPE"})
    assert elsewhere.status_code == 400 and elsewhere.json()["errorType"] == "error-invalid-room"
    no_preview = await alice.request("GET", "commands.preview", params={"command": "filterstats", "roomId": world.rid})
    assert no_preview.status_code == 400
    await admin.ok("DELETE", "/api/apps/word-filter")
    assert "filterstats" not in [c["command"] for c in (await alice.ok("GET", "commands.list"))["commands"]]


async def test_two_modify_apps_combine_in_install_order(world):
    admin, alice = world.admin, world.alice
    await admin.installed(build_zip("suffix"))
    await admin.installed(build_zip("suffix", manifest={"id": "suffix-b", "name": "Suffix B"},
                                    replace={'SUFFIX = " [A]"': 'SUFFIX = " [B]"'}))
    sent = await alice.send(world.rid, "hello")
    # each receives the previous one's result; an implemented but undeclared prevent hook is never called
    assert sent.status_code == 200 and sent.json()["message"]["msg"] == "hello [A] [B]", sent.text
    # the order survives an update of the first-installed app
    await admin.installed(build_zip("suffix", manifest={"version": "1.0.1"}), "suffix-a")
    assert (await alice.send(world.rid, "again")).json()["message"]["msg"] == "again [A] [B]"
    logs = world.srv.kernel.db["rocketchat_apps_logs"]
    note = await world.wait_for(lambda: logs.find_one({"appId": "suffix-a", "method": "app:construct"}))
    assert "pre_message_sent_prevent" in note["entries"][0]["args"][0]


async def test_accessor_without_permission_is_denied(world):
    await world.admin.installed(build_zip("nopersist"))

    async def attempt(accessor: str, *args) -> dict:
        r = await world.srv.http.post("/api/apps/public/no-persist/try", json={"accessor": accessor, "args": list(args)})
        assert r.status_code == 200, r.text
        return r.json()

    denied = await attempt("persistence.create", {"x": 1})
    assert denied["allowed"] is False and "permission persistence is required" in denied["error"]
    assert (await attempt("http.get", "https://example.org"))["allowed"] is False
    assert (await attempt("reader.get_user", world.alice.id))["allowed"] is False
    assert (await attempt("modifier.send_message", world.rid, "hi"))["allowed"] is False
    assert await world.srv.kernel.db["rocketchat_apps_persistence"].count_documents({}) == 0
    # settings.get needs no permission: the app's own settings (it has none)
    assert "no setting" in (await attempt("settings.get", "anything"))["error"]


async def test_prevent_hooks_are_asked_at_once_and_the_first_refusal_in_order_wins(world):
    for n in (1, 2, 3):
        await world.admin.installed(build_zip("slow", manifest={"id": f"slow-{n}", "name": f"Slow {n}"},
                                              replace={'WORD = "slow-1-refuses"': f'WORD = "slow-{n}-refuses"'}))
    started = time.monotonic()
    assert (await world.alice.send(world.rid, "nobody minds")).status_code == 200
    assert time.monotonic() - started < 0.85     # three apps of 0.3 s each, asked concurrently
    both = await world.alice.send(world.rid, "slow-3-refuses slow-2-refuses")
    assert both.status_code == 400 and both.json()["details"] == {"reason": "slow-2-refuses found"}
    last = await world.alice.send(world.rid, "slow-3-refuses")
    assert last.json()["details"] == {"reason": "slow-3-refuses found"}
    await world.admin.status("slow-2", "manually_disabled")
    assert (await world.alice.send(world.rid, "slow-3-refuses slow-2-refuses")).json()["details"] == {
        "reason": "slow-3-refuses found"}
    assert not world.engine.fanout._batches
