"""UIKit interactions: a core service answers for its own app id; unknown apps are 404; bad bodies 400."""
from __future__ import annotations

from core import hookimpl
from core.uikit import CoreApp
from tests.users import create_user


class ModalCore:
    name = "test_core_app"

    def __init__(self) -> None:
        self.seen: list[dict] = []

    @hookimpl
    def register_uikit_core_apps(self):
        return [CoreApp("test-core", block_action=self.block, view_submit=self.submit)]

    async def block(self, interaction, ctx):
        self.seen.append(interaction)
        return {"type": "modal.open", "view": {"id": "v1", "type": "modal", "title": {"type": "plain_text",
                                                                                    "text": "Hi"}, "blocks": []}}

    async def submit(self, interaction, ctx):
        comment = interaction["payload"]["view"]["state"]["b1"]["comment"]
        if len(comment) < 3:
            return {"success": False, "type": "errors", "viewId": "v1", "errors": {"comment": "too short"}}
        return None


async def _server(server_factory):
    core = ModalCore()
    srv = await server_factory(plugins=("settings", "accounts", "authorization", "uikit_core", core))
    user = await create_user(srv, "alice")
    return srv, core, user


async def test_block_action_routed_to_core_app(server_factory):
    srv, core, user = await _server(server_factory)
    r = await srv.http.post("/api/apps/ui.interaction/test-core", headers=user.headers, json={
        "type": "blockAction", "actionId": "nps-score", "triggerId": "t1",
        "payload": {"blockId": "b", "value": "9"}, "container": {"type": "message", "id": "m1"}, "rid": "GENERAL"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "modal.open" and body["triggerId"] == "t1" and body["appId"] == "test-core"
    assert body["view"]["appId"] == "test-core" and body["success"] is True
    assert core.seen[0]["user"]["username"] == "alice" and core.seen[0]["payload"]["value"] == "9"


async def test_view_submit_errors_shape(server_factory):
    srv, _, user = await _server(server_factory)
    payload = {"view": {"id": "v1", "state": {"b1": {"comment": "no"}}}}
    r = await srv.http.post("/api/apps/ui.interaction/test-core", headers=user.headers,
                            json={"type": "viewSubmit", "triggerId": "t2", "payload": payload})
    assert r.json() == {"success": False, "type": "errors", "viewId": "v1", "errors": {"comment": "too short"},
                        "triggerId": "t2", "appId": "test-core"}
    payload["view"]["state"]["b1"]["comment"] = "great product"
    r = await srv.http.post("/api/apps/ui.interaction/test-core", headers=user.headers,
                            json={"type": "viewSubmit", "payload": payload})
    assert r.json() == {"success": True}


async def test_over_ddp(server_factory):
    srv, core, user = await _server(server_factory)
    ddp = await srv.ddp()
    assert "result" in await ddp.login(user.token)
    reply = await ddp.call("uikit.interaction", "test-core", {"type": "blockAction", "actionId": "a"})
    assert reply["result"]["type"] == "modal.open"


async def test_unknown_app_and_bad_bodies(server_factory):
    srv, _, user = await _server(server_factory)
    r = await srv.http.post("/api/apps/ui.interaction/nope", headers=user.headers, json={"type": "blockAction"})
    assert r.status_code == 404 and r.json()["success"] is False
    r = await srv.http.post("/api/apps/ui.interaction/test-core", headers=user.headers, json={"type": "explode"})
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"
    r = await srv.http.post("/api/apps/ui.interaction/test-core", headers=user.headers,
                            json={"type": "blockAction", "actionId": {"$ne": None}})
    assert r.status_code == 400
    r = await srv.http.post("/api/apps/ui.interaction/test-core", json={"type": "blockAction"})
    assert r.status_code == 401
