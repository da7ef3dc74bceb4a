"""Operating apps: logs, installing from a file path (the CLI's way in), switching the apps framework off and
on, and slash commands contributed by a core plugin through the same registry."""
from __future__ import annotations

from core import hookimpl
from tests.plugins.apps_engine.conftest import build_zip, make_world


async def test_logs_are_readable_by_admins(world):
    await world.admin.installed(build_zip("suffix"))
    logs = world.srv.kernel.db["rocketchat_apps_logs"]
    await world.wait_for(lambda: logs.find_one({"appId": "suffix-a", "method": "lifecycle"}), what="lifecycle log")
    body = await world.admin.ok("GET", "/api/apps/suffix-a/logs", params={"count": 50})
    assert body["total"] >= 1 and body["offset"] == 0
    lines = [e["args"][0] for doc in body["logs"] for e in doc["entries"]]
    assert "installed version 1.0.0" in lines
    assert all(doc["appId"] == "suffix-a" and doc["_createdAt"] for doc in body["logs"])
    assert (await world.alice.request("GET", "/api/apps/suffix-a/logs")).status_code == 403
    index = [i async for i in await logs.list_indexes() if i.get("expireAfterSeconds")]
    assert index and index[0]["expireAfterSeconds"] == 30 * 24 * 3600


async def test_install_from_a_file_path(world, tmp_path):
    package = tmp_path / "filter.zip"
    package.write_bytes(build_zip("wordfilter"))
    view = await world.srv.kernel.broker.call("apps_engine.install_path", str(package))
    assert view["id"] == "word-filter" and view["status"] == "manually_enabled"
    assert (await world.alice.send(world.rid, "badword")).status_code == 400
    package.write_bytes(build_zip("wordfilter", manifest={"version": "1.0.1"}))
    view = await world.srv.kernel.broker.call("apps_engine.install_path", str(package), update=True)
    assert view["version"] == "1.0.1"
    listed = await world.srv.kernel.broker.call("apps_engine.list")
    assert [a["id"] for a in listed] == ["word-filter"]


async def test_framework_switch(world):
    admin, alice = world.admin, world.alice
    await admin.installed(build_zip("wordfilter"))
    await admin.ok("POST", "settings/Apps_Framework_enabled", json={"value": False})
    await world.wait_for(lambda: world.srv.kernel.pm.get_plugin("app:word-filter") is None, what="apps stopped")
    assert (await alice.send(world.rid, "badword")).status_code == 200
    refused = await admin.install(build_zip("crasher"))
    assert refused.status_code == 400 and refused.json()["errorType"] == "error-apps-disabled"
    assert (await world.record("word-filter"))["status"] == "manually_enabled"
    await admin.ok("POST", "settings/Apps_Framework_enabled", json={"value": True})
    await world.wait_for(lambda: world.srv.kernel.pm.get_plugin("app:word-filter") is not None, what="apps back")
    assert (await alice.send(world.rid, "badword")).status_code == 400


class CorePluginCommands:
    name = "core_commands"

    def __init__(self) -> None:
        self.ran: list[dict] = []

    @hookimpl
    def register_slash_commands(self) -> list[dict]:
        return [{"command": "shrug", "description": "¯\\_(ツ)_/¯", "params": "[message]", "execute": self.shrug},
                {"command": "filterstats", "execute": self.shrug}]    # an app cannot take a core command's name

    async def shrug(self, context: dict) -> None:
        self.ran.append(context)


async def test_core_plugin_commands_share_the_registry(server_factory, tmp_path):
    plugin = CorePluginCommands()
    world = await make_world(server_factory, tmp_path, extra_plugins=(plugin,))
    listed = {c["command"]: c for c in (await world.alice.ok("GET", "commands.list"))["commands"]}
    assert listed["shrug"]["description"] == "¯\\_(ツ)_/¯" and "appId" not in listed["shrug"]
    await world.alice.ok("POST", "commands.run", json={"command": "shrug", "roomId": world.rid, "params": "oh well"})
    assert plugin.ran[0]["args"] == ["oh", "well"] and plugin.ran[0]["sender"]["username"] == "alice"
    assert plugin.ran[0]["room"]["_id"] == world.rid
    await world.admin.installed(build_zip("wordfilter"))
    listed = {c["command"]: c for c in (await world.alice.ok("GET", "commands.list"))["commands"]}
    assert "appId" not in listed["filterstats"]


async def test_slash_command_over_ddp(server_factory, tmp_path):
    """Clients send `/shrug oh well` as the DDP method slashCommand, not as a message."""
    plugin = CorePluginCommands()
    world = await make_world(server_factory, tmp_path, extra_plugins=(plugin,))
    ddp = await world.srv.ddp()
    assert "result" in await ddp.login(world.alice.user.token)
    reply = await ddp.call("slashCommand", {"cmd": "shrug", "params": "oh well", "msg": {"rid": world.rid}})
    assert "error" not in reply, reply
    assert plugin.ran[0]["args"] == ["oh", "well"] and plugin.ran[0]["room"]["_id"] == world.rid
    reply = await ddp.call("slashCommand", {"cmd": "nope", "msg": {"rid": world.rid}})
    assert "error" in reply
    reply = await ddp.call("slashCommand", {"cmd": {"$ne": None}, "msg": {"rid": world.rid}})
    assert reply["error"]["error"] == "error-invalid-params"
