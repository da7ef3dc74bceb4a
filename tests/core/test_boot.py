"""The kernel boots with no plugins at all and serves /api/info over real HTTP."""


async def test_empty_plugin_set_serves_info(server_factory):
    srv = await server_factory(plugins=())
    r = await srv.http.get("/api/info")
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True
    assert body["version"].count(".") == 2
    assert "info" not in body  # plugin set only for callers with view-statistics


async def test_unknown_route_is_404_envelope(server):
    r = await server.http.get("/api/v1/no.such.route")
    assert r.status_code == 404
    assert r.json() == {"success": False, "error": "Resource not found"}


async def test_wrong_method_is_405_envelope(server):
    r = await server.http.post("/api/info", json={})
    assert r.status_code == 405
    assert r.json()["success"] is False


def test_login_tokens_never_look_like_options():
    from core.security import new_token
    assert not any(new_token().startswith("-") for _ in range(2000))
