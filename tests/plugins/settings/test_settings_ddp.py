"""public-settings/get over DDP: the full list, or {update, remove} since an EJSON date."""
from core import hookimpl


class Declares:
    name = "declares_settings"

    @hookimpl
    def register_settings(self):
        return [{"_id": "Site_Name", "type": "string", "value": "OrbitChat", "public": True},
                {"_id": "Secret_Thing", "type": "string", "value": "s3cret"}]


async def test_public_settings_get(server_factory):
    srv = await server_factory(plugins=("settings", Declares))
    ddp = await srv.ddp()
    reply = await ddp.call("public-settings/get")
    ids = {s["_id"]: s["value"] for s in reply["result"]}
    assert ids["Site_Name"] == "OrbitChat" and "Secret_Thing" not in ids
    reply = await ddp.call("public-settings/get", {"$date": 0})
    assert set(reply["result"]) == {"update", "remove"}
    assert "Site_Name" in {s["_id"] for s in reply["result"]["update"]}
    reply = await ddp.call("public-settings/get", {"$date": 4102444800000})   # 2100: nothing newer
    assert reply["result"] == {"update": [], "remove": []}


async def test_overwrite_setting_is_what_clients_read(server_factory):
    env = {"OVERWRITE_SETTING_Site_Name": "Forced"}
    srv = await server_factory(plugins=("settings", Declares), env=env)
    r = await srv.http.get("/api/v1/settings.public", params={"query": '{"_id": "Site_Name"}'})
    assert r.json()["settings"] == [{"_id": "Site_Name", "value": "Forced"}]
    doc = await srv.kernel.db["rocketchat_settings"].find_one({"_id": "Site_Name"})
    assert doc["value"] == "Forced" and doc["valueSource"] == "processEnvValue"
