"""A plugin found through a real `orbitchat.plugins` entry point contributes a route, a DDP method and a
setting, exactly like a built-in service."""
from __future__ import annotations

import json

import pytest

from core import lock as lockfile
from tests.core.dists import make_dist, unique_name
from tests.helpers import StaticAuth

PLUGIN_SOURCE = '''
from core import hookimpl
from core.ddp import DdpMethod
from core.rest import Route


class Plugin:
    """Installed like a third-party distribution: one route, one DDP method, one public setting."""

    def __init__(self):
        self.api = None

    @hookimpl
    def register_routes(self):
        return [Route("GET", "epplug.hello", self.hello, auth=False)]

    @hookimpl
    def register_ddp_methods(self):
        return [DdpMethod("epplug/echo", self.echo, auth=False,
                          params={"type": "array", "prefixItems": [{"type": "string"}],
                                  "minItems": 1, "maxItems": 1})]

    @hookimpl
    def register_settings(self):
        return [{"_id": "Epplug_Greeting", "type": "string", "value": "hello", "public": True},
                {"_id": "Epplug_Secret", "type": "string", "value": "s3cret"}]

    @hookimpl
    async def orbitchat_startup(self, api):
        self.api = api

    async def hello(self, req):
        return {"greeting": self.api.settings.get("Epplug_Greeting"), "plugins": self.api.plugin_names}

    async def echo(self, inv, text):
        return {"echo": text, "greeting": self.api.settings.get("Epplug_Greeting")}
'''


@pytest.fixture
def epplug(tmp_path, monkeypatch):
    """Install a test distribution with one entry point; returns the entry point name."""
    module = unique_name("orbit_epplug")
    name = unique_name("epplug")
    root = make_dist(tmp_path / "site", "orbit-epplug-test", "0.1", {module: PLUGIN_SOURCE},
                     {name: f"{module}:Plugin"})
    monkeypatch.syspath_prepend(str(root))
    return name


def test_entry_point_is_discovered_with_its_distribution(epplug):
    installed = lockfile.discover()
    assert epplug in installed
    assert installed[epplug].distribution == "orbit-epplug-test"
    assert installed[epplug].version == "0.1"
    assert installed[epplug].hash.startswith("sha256:")
    assert "settings" in installed  # our own built-ins are entry points too


async def test_entry_point_plugin_contributes_route(server_factory, epplug):
    auth = StaticAuth({"admin": {"view-statistics"}})
    srv = await server_factory(plugins=(epplug, "settings", auth))
    r = await srv.http.get("/api/v1/epplug.hello")
    assert r.status_code == 200
    assert r.json() == {"greeting": "hello", "plugins": [epplug, "settings", "static_auth"], "success": True}
    info = await srv.http.get("/api/info", headers=auth.add_user("boss", ("admin",)))
    assert epplug in info.json()["info"]["plugins"]


async def test_entry_point_plugin_contributes_ddp_method(server_factory, epplug):
    srv = await server_factory(plugins=(epplug, "settings"))
    ddp = await srv.ddp()
    msg = await ddp.call("epplug/echo", "ping?")
    assert msg == {"msg": "result", "id": msg["id"], "result": {"echo": "ping?", "greeting": "hello"}}
    bad = await ddp.call("epplug/echo", 42)
    assert bad["error"]["error"] == "error-invalid-params"


async def test_entry_point_plugin_contributes_setting(server_factory, epplug):
    srv = await server_factory(plugins=(epplug, "settings"),
                               env={"OVERWRITE_SETTING_Epplug_Secret": "from-env"})
    assert srv.kernel.settings.get("Epplug_Greeting") == "hello"
    assert srv.kernel.settings.definitions["Epplug_Greeting"]["owner"] == epplug
    assert srv.kernel.settings.get("Epplug_Secret") == "from-env"
    query = json.dumps({"_id": {"$in": ["Epplug_Greeting", "Epplug_Secret"]}})
    r = await srv.http.get("/api/v1/settings.public", params={"query": query})
    assert r.status_code == 200
    # Public: listed with its value; private: not listed at all.
    assert r.json()["settings"] == [{"_id": "Epplug_Greeting", "value": "hello"}]
    stored = await srv.kernel.db["rocketchat_settings"].find_one({"_id": "Epplug_Greeting"})
    assert stored["packageValue"] == "hello" and stored["public"] is True


async def test_unknown_plugin_name_refuses_to_start(server_factory):
    with pytest.raises(LookupError, match="not installed"):
        await server_factory(plugins=("no_such_plugin_anywhere",))
