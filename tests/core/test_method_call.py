"""DDP over REST: method.call / method.callAnon carry a DDP frame and return the DDP result frame."""
from core import hookimpl, jsonutil
from core.ddp import DdpMethod


class Echo:
    name = "echo_methods"

    @hookimpl
    def register_ddp_methods(self):
        async def echo(inv, value):
            return {"value": value, "user": inv.ctx.user_id}
        return [DdpMethod("test.echo", echo, auth=False, params={"type": "array", "maxItems": 1})]


def frame(method, *params, mid="7"):
    return {"message": jsonutil.ejson_dumps({"msg": "method", "id": mid, "method": method,
                                             "params": list(params)}).decode()}


async def test_call_anon_round_trip_with_dates(server_factory):
    srv = await server_factory(plugins=("settings", Echo))
    r = await srv.http.post("/api/v1/method.callAnon/test.echo", json=frame("test.echo", {"$date": 0}))
    assert r.status_code == 200 and r.json()["success"] is True
    reply = jsonutil.loads(r.json()["message"])
    assert reply == {"msg": "result", "id": "7", "result": {"value": {"$date": 0}, "user": None}}


async def test_errors_are_ddp_errors_inside_a_success_envelope(server_factory):
    srv = await server_factory(plugins=("settings", Echo))
    r = await srv.http.post("/api/v1/method.callAnon/nope", json=frame("nope"))
    assert jsonutil.loads(r.json()["message"])["error"]["error"] == 404
    r = await srv.http.post("/api/v1/method.callAnon/test.echo", json=frame("test.echo", 1, 2))
    assert jsonutil.loads(r.json()["message"])["error"]["error"] == "error-invalid-params"
    r = await srv.http.post("/api/v1/method.callAnon/test.echo", json=frame("other"))
    assert r.status_code == 400
    r = await srv.http.post("/api/v1/method.callAnon/test.echo", json={"message": "{not json"})
    assert r.status_code == 400
    r = await srv.http.post("/api/v1/method.call/test.echo", json=frame("test.echo", 1))
    assert r.status_code == 401
