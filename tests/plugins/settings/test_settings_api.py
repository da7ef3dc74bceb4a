"""The settings service over real HTTP, DDP and database: public and admin listings, read and write of one
setting with permission checks, typed validation, the `watch.settings` event, persistence across restarts."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import hookimpl
from tests.helpers import StaticAuth

PROBE_SETTINGS = [
    {"_id": "Probe_Public", "type": "string", "value": "hello", "public": True, "group": "Probe"},
    {"_id": "Probe_Flag", "type": "boolean", "value": False, "public": True, "group": "Probe"},
    {"_id": "Probe_Private", "type": "string", "value": "s3cret", "group": "Probe"},
    {"_id": "Probe_Count", "type": "int", "value": 5, "group": "Probe"},
    {"_id": "Probe_Choice", "type": "select", "value": "a", "group": "Probe",
     "values": [{"key": "a", "i18nLabel": "A"}, {"key": "b", "i18nLabel": "B"}]},
    {"_id": "Probe_Hidden", "type": "string", "value": "invisible", "public": True, "hidden": True},
    {"_id": "Probe_Blocked", "type": "string", "value": "fixed", "blocked": True},
]


class ProbeSettings:
    """Declares settings of each kind and records `post_setting_changed` notifications."""

    name = "probe_settings"

    def __init__(self) -> None:
        self.changes: list[tuple[str, Any, Any]] = []

    @hookimpl
    def register_settings(self) -> list[dict]:
        return [dict(s) for s in PROBE_SETTINGS]

    @hookimpl
    async def post_setting_changed(self, setting_id: str, value: Any, previous: Any) -> None:
        self.changes.append((setting_id, value, previous))


class Site:
    def __init__(self, srv: Any, auth: StaticAuth, probe: ProbeSettings) -> None:
        self.srv, self.auth, self.probe = srv, auth, probe
        self.http = srv.http
        self.admin = auth.add_user("root", ("admin",))
        self.user = auth.add_user("jane", ("user",))

    async def stored(self, sid: str) -> dict:
        return await self.srv.kernel.db["rocketchat_settings"].find_one({"_id": sid})


def site_plugins() -> tuple[StaticAuth, ProbeSettings]:
    return StaticAuth({"admin": {"view-privileged-setting", "edit-privileged-setting"}}), ProbeSettings()


@pytest.fixture
async def site(server_factory):
    auth, probe = site_plugins()
    srv = await server_factory(plugins=("settings", auth, probe))
    return Site(srv, auth, probe)


def ids(body: dict) -> list[str]:
    return [s["_id"] for s in body["settings"]]


# -- listings -------------------------------------------------------------------------------------------
async def test_settings_public_lists_public_values_only(site):
    r = await site.http.get("/api/v1/settings.public", params={"query": json.dumps({"group": "Probe"})})
    assert r.status_code == 200
    body = r.json()
    assert body == {"settings": [{"_id": "Probe_Flag", "value": False},
                                 {"_id": "Probe_Public", "value": "hello"}],
                    "count": 2, "offset": 0, "total": 2, "success": True}
    everything = await site.http.get("/api/v1/settings.public", params={"count": "0"})
    listed = ids(everything.json())
    assert "Probe_Public" in listed
    assert not {"Probe_Private", "Probe_Hidden", "API_Default_Count"} & set(listed)


async def test_settings_public_paging(site):
    params = {"query": json.dumps({"group": "Probe"}), "sort": json.dumps({"_id": -1}), "count": "1"}
    first = (await site.http.get("/api/v1/settings.public", params=params)).json()
    second = (await site.http.get("/api/v1/settings.public", params={**params, "offset": "1"})).json()
    assert (ids(first), first["count"], first["total"]) == (["Probe_Public"], 1, 2)
    assert (ids(second), second["offset"]) == (["Probe_Flag"], 1)


async def test_settings_list_needs_login_and_privilege_for_private(site):
    assert (await site.http.get("/api/v1/settings")).status_code == 401
    query = {"query": json.dumps({"group": "Probe"})}
    plain = (await site.http.get("/api/v1/settings", params=query, headers=site.user)).json()
    assert ids(plain) == ["Probe_Flag", "Probe_Public"]
    assert plain["settings"][1] == {"_id": "Probe_Public", "value": "hello"}
    admin = (await site.http.get("/api/v1/settings", params=query, headers=site.admin)).json()
    assert ids(admin) == ["Probe_Choice", "Probe_Count", "Probe_Flag", "Probe_Private", "Probe_Public"]
    private = next(s for s in admin["settings"] if s["_id"] == "Probe_Private")
    assert (private["value"], private["packageValue"], private["type"]) == ("s3cret", "s3cret", "string")
    assert private["_updatedAt"].endswith("Z")   # REST dates are ISO strings


# -- one setting ----------------------------------------------------------------------------------------
async def test_get_one_requires_view_privileged_setting(site):
    assert (await site.http.get("/api/v1/settings/Probe_Private")).status_code == 401
    r = await site.http.get("/api/v1/settings/Probe_Private", headers=site.user)
    assert r.status_code == 403 and r.json()["success"] is False
    r = await site.http.get("/api/v1/settings/Probe_Private", headers=site.admin)
    assert r.json() == {"_id": "Probe_Private", "value": "s3cret", "success": True}
    for missing in ("No_Such_Setting", "Probe_Hidden", "bad$name"):
        r = await site.http.get(f"/api/v1/settings/{missing}", headers=site.admin)
        assert r.status_code == 404 and r.json()["errorType"] == "error-setting-not-found", missing


async def test_set_requires_edit_privileged_setting(site):
    assert (await site.http.post("/api/v1/settings/Probe_Public", json={"value": "x"})).status_code == 401
    r = await site.http.post("/api/v1/settings/Probe_Public", json={"value": "x"}, headers=site.user)
    assert r.status_code == 403
    assert (await site.stored("Probe_Public"))["value"] == "hello"
    assert site.srv.kernel.settings.get("Probe_Public") == "hello"


async def test_set_persists_notifies_and_emits_watch_settings(site):
    events: list = []
    await site.srv.kernel.broker.subscribe("watch.settings", events.append)
    before = datetime.now(UTC) - timedelta(seconds=1)
    r = await site.http.post("/api/v1/settings/Probe_Public", json={"value": "bonjour", "editor": "color"},
                             headers=site.admin)
    assert r.status_code == 200 and r.json() == {"success": True}
    stored = await site.stored("Probe_Public")
    assert (stored["value"], stored["valueSource"], stored["editor"]) == ("bonjour", "customValue", "color")
    assert stored["packageValue"] == "hello" and stored["_updatedAt"].replace(tzinfo=UTC) >= before
    assert site.srv.kernel.settings.get("Probe_Public") == "bonjour"
    setting = {"_id": "Probe_Public", "value": "bonjour", "editor": "color", "public": True}
    assert events == [{"clientAction": "updated", "setting": setting}]
    query = {"query": json.dumps({"_id": "Probe_Public"})}
    public = await site.http.get("/api/v1/settings.public", params=query)
    assert public.json()["settings"] == [{"_id": "Probe_Public", "value": "bonjour"}]
    await site.srv.kernel.hooks.drain()
    assert site.probe.changes == [("Probe_Public", "bonjour", "hello")]
    r = await site.http.post("/api/v1/settings/Probe_Private", json={"value": "n3w"}, headers=site.admin)
    assert r.status_code == 200
    assert events[-1]["setting"]["public"] is False   # consumers keep private values off public streams


BAD_VALUES = [
    ("Probe_Flag", "yes", "error-invalid-setting-value"),
    ("Probe_Flag", 1, "error-invalid-setting-value"),
    ("Probe_Count", 1.5, "error-invalid-setting-value"),
    ("Probe_Count", True, "error-invalid-setting-value"),
    ("Probe_Choice", "c", "error-invalid-setting-value"),
    ("Probe_Public", 42, "error-invalid-setting-value"),
    ("Probe_Public", {"$set": {"value": "x"}}, "invalid-params"),
    ("Probe_Blocked", "changed", "error-setting-blocked"),
]


async def test_set_rejects_bad_values(site):
    for sid, value, error_type in BAD_VALUES:
        before = await site.stored(sid)
        r = await site.http.post(f"/api/v1/settings/{sid}", json={"value": value}, headers=site.admin)
        assert r.status_code == 400, (sid, value)
        assert r.json()["errorType"] == error_type, (sid, value, r.json())
        assert await site.stored(sid) == before
    assert site.probe.changes == []


async def test_set_accepts_typed_values(site):
    for sid, value in (("Probe_Flag", True), ("Probe_Count", 12), ("Probe_Choice", "b")):
        r = await site.http.post(f"/api/v1/settings/{sid}", json={"value": value}, headers=site.admin)
        assert r.status_code == 200, (sid, r.json())
        assert (await site.stored(sid))["value"] == value
        assert site.srv.kernel.settings.get(sid) == value


async def test_set_body_shape_and_unknown_setting(site):
    r = await site.http.post("/api/v1/settings/Probe_Public", json={}, headers=site.admin)
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"
    r = await site.http.post("/api/v1/settings/Probe_Public", json={"value": "x", "_id": "Probe_Private"},
                             headers=site.admin)
    assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"
    for sid in ("No_Such_Setting", "Probe_Hidden"):
        r = await site.http.post(f"/api/v1/settings/{sid}", json={"value": "x"}, headers=site.admin)
        assert r.status_code == 404 and r.json()["errorType"] == "error-setting-not-found"
    assert await site.stored("No_Such_Setting") is None


# -- DDP ------------------------------------------------------------------------------------------------
async def test_ddp_public_and_private_settings_get(site):
    ddp = await site.srv.ddp()
    public = (await ddp.call("public-settings/get"))["result"]
    by_id = {s["_id"]: s for s in public}
    assert by_id["Probe_Public"] == {"_id": "Probe_Public", "value": "hello"}
    assert "Probe_Private" not in by_id and "Probe_Hidden" not in by_id
    assert (await ddp.call("private-settings/get"))["error"]["error"] == 401
    since = datetime.now(UTC)
    await site.http.post("/api/v1/settings/Probe_Flag", json={"value": True}, headers=site.admin)
    delta = (await ddp.call("public-settings/get", since))["result"]
    assert delta == {"update": [{"_id": "Probe_Flag", "value": True}], "remove": []}


# -- persistence ----------------------------------------------------------------------------------------
async def test_values_survive_restart_and_defaults_do_not_overwrite(server_factory):
    auth, probe = site_plugins()
    first = await server_factory(plugins=("settings", auth, probe))
    admin = auth.add_user("root", ("admin",))
    r = await first.http.post("/api/v1/settings/Probe_Count", json={"value": 99}, headers=admin)
    assert r.status_code == 200
    await first.stop()
    auth2, probe2 = site_plugins()
    second = await server_factory(plugins=("settings", auth2, probe2))
    assert second.kernel.settings.get("Probe_Count") == 99
    r = await second.http.get("/api/v1/settings/Probe_Count", headers=auth2.add_user("root", ("admin",)))
    assert r.json() == {"_id": "Probe_Count", "value": 99, "success": True}
    stored = await second.kernel.db["rocketchat_settings"].find_one({"_id": "Probe_Count"})
    assert (stored["value"], stored["packageValue"], stored["valueSource"]) == (99, 5, "customValue")


async def test_initial_value_from_environment(server_factory):
    auth, probe = site_plugins()
    srv = await server_factory(plugins=("settings", auth, probe), env={"Probe_Public": "from-env"})
    stored = await srv.kernel.db["rocketchat_settings"].find_one({"_id": "Probe_Public"})
    assert (stored["value"], stored["valueSource"], stored["packageValue"]) == ("from-env", "processEnvValue",
                                                                                "hello")
    r = await srv.http.get("/api/v1/settings.public", params={"query": json.dumps({"_id": "Probe_Public"})})
    assert r.json()["settings"] == [{"_id": "Probe_Public", "value": "from-env"}]
