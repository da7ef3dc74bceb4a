"""REST plumbing as a client sees it: Rocket.Chat's envelope for every status the kernel produces, auth and
permission checks, rate limits, body limits, schema validation, and no traceback ever in a body."""
from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from core import hookimpl
from core.rest import Route
from tests.helpers import StaticAuth

UNAUTHORIZED = {"success": False, "status": "error", "message": "You must be logged in to do this.",
                "error": "You must be logged in to do this."}
FORBIDDEN = {"success": False, "error": "User does not have the permissions required for this action "
                                        "[error-unauthorized]"}
INTERNAL = {"success": False, "error": "Internal server error"}

ECHO_BODY = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 20}, "count": {"type": "integer", "minimum": 0}},
    "required": ["name"],
    "additionalProperties": False,
}
SEARCH_QUERY = {
    "type": "object",
    "properties": {"q": {"type": "string"}, "n": {"type": "integer", "maximum": 10},
                   "tags": {"type": "array", "items": {"type": "string"}}, "exact": {"type": "boolean"}},
    "additionalProperties": False,
}


class EnvelopeRoutes:
    """Routes covering each kernel check."""

    name = "envelope_routes"

    @hookimpl
    def register_routes(self) -> list[Route]:
        return [
            Route("GET", "envelope.me", self.me, rate_limit=None),
            Route("GET", "envelope.maybe", self.me, auth=False, rate_limit=None),
            Route("GET", "envelope.admin", self.ok, permission="manage-envelopes", rate_limit=None),
            Route("GET", "envelope.either", self.ok, any_permission=("perm-a", "perm-b"), rate_limit=None),
            Route("POST", "envelope.echo", self.echo, auth=False, body=ECHO_BODY, rate_limit=None),
            Route("GET", "envelope.search", self.search, auth=False, query=SEARCH_QUERY, rate_limit=None),
            Route(("GET", "POST"), "envelope.crash", self.crash, auth=False, rate_limit=None),
            Route("GET", "envelope.limited", self.ok, auth=False),
            Route("GET", "envelope.other", self.ok, auth=False),
            Route("GET", "envelope/:item", self.item, auth=False, rate_limit=None),
        ]

    async def me(self, req: Any) -> dict:
        return {"username": req.ctx.username}

    async def ok(self, req: Any) -> dict:
        return {}

    async def echo(self, req: Any) -> dict:
        return {"body": req.body}

    async def search(self, req: Any) -> dict:
        return {"query": req.query}

    async def crash(self, req: Any) -> dict:
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    async def item(self, req: Any) -> dict:
        return {"item": req.params["item"]}


@pytest.fixture
async def env_server(server_factory):
    auth = StaticAuth({"admin": {"*"}, "editor": {"perm-b"}})
    srv = await server_factory(plugins=(EnvelopeRoutes(), auth))
    srv.auth = auth
    return srv


def assert_no_traceback(r: httpx.Response) -> None:
    for needle in ("Traceback", "File \"", "hunter2", "RuntimeError", "secret internals"):
        assert needle not in r.text, r.text


# -- 401 / 403 ------------------------------------------------------------------------------------------
async def test_missing_token_is_401(env_server):
    r = await env_server.http.get("/api/v1/envelope.me")
    assert r.status_code == 401 and r.json() == UNAUTHORIZED
    only_id = await env_server.http.get("/api/v1/envelope.me", headers={"X-User-Id": "someone"})
    assert only_id.status_code == 401 and only_id.json() == UNAUTHORIZED


async def test_valid_token_authenticates(env_server):
    headers = env_server.auth.add_user("alice")
    r = await env_server.http.get("/api/v1/envelope.me", headers=headers)
    assert r.status_code == 200 and r.json() == {"username": "alice", "success": True}


async def test_invalid_token_is_401_even_on_anonymous_routes(env_server):
    headers = env_server.auth.add_user("alice")
    wrong = {"X-User-Id": headers["X-User-Id"], "X-Auth-Token": headers["X-Auth-Token"] + "x"}
    other = {"X-User-Id": "nobody-with-this-id", "X-Auth-Token": headers["X-Auth-Token"]}
    huge = {"X-User-Id": headers["X-User-Id"], "X-Auth-Token": "t" * 5000}
    for bad in (wrong, other, huge):
        for path in ("/api/v1/envelope.me", "/api/v1/envelope.maybe"):
            r = await env_server.http.get(path, headers=bad)
            assert r.status_code == 401 and r.json() == UNAUTHORIZED, (path, bad)
    anonymous = await env_server.http.get("/api/v1/envelope.maybe")
    assert anonymous.json() == {"username": None, "success": True}


async def test_declared_permission_is_403_without_it(env_server):
    user = env_server.auth.add_user("bob")
    admin = env_server.auth.add_user("root", ("admin",))
    r = await env_server.http.get("/api/v1/envelope.admin", headers=user)
    assert r.status_code == 403 and r.json() == FORBIDDEN
    assert ("bob", "manage-envelopes") in env_server.auth.checks
    r = await env_server.http.get("/api/v1/envelope.admin", headers=admin)
    assert r.status_code == 200 and r.json() == {"success": True}
    r = await env_server.http.get("/api/v1/envelope.admin")
    assert r.status_code == 401   # not logged in is 401, not 403


async def test_any_permission_needs_one_of_them(env_server):
    user = env_server.auth.add_user("bob")
    editor = env_server.auth.add_user("ed", ("editor",))
    assert (await env_server.http.get("/api/v1/envelope.either", headers=user)).status_code == 403
    assert (await env_server.http.get("/api/v1/envelope.either", headers=editor)).status_code == 200


async def test_permission_denied_by_default_without_authorization_plugin(server_factory):
    class UsersOnly(StaticAuth):
        @hookimpl
        async def provide_permission_check(self, user: dict, permission: str, rid: str | None) -> None:
            return None

    auth = UsersOnly()
    srv = await server_factory(plugins=(EnvelopeRoutes(), auth))
    r = await srv.http.get("/api/v1/envelope.admin", headers=auth.add_user("root", ("admin",)))
    assert r.status_code == 403 and r.json() == FORBIDDEN


# -- 404 / 405 ------------------------------------------------------------------------------------------
async def test_unknown_paths_are_404_envelope(env_server):
    for path in ("/api/v1/envelope.nope", "/api/v2/envelope.me", "/not-api/at/all", "/api/v1/envelope/a/b"):
        r = await env_server.http.get(path)
        assert r.status_code == 404, path
        assert r.json() == {"success": False, "error": "Resource not found"}


async def test_wrong_method_is_405_envelope(env_server):
    for method, path in (("POST", "/api/v1/envelope.me"), ("DELETE", "/api/v1/envelope.echo"),
                         ("PUT", "/api/v1/envelope/abc")):
        r = await env_server.http.request(method, path, json={})
        assert r.status_code == 405, (method, path)
        assert r.json() == {"success": False, "error": "Method not allowed"}
    r = await env_server.http.get("/api/v1/envelope/abc")
    assert r.json() == {"item": "abc", "success": True}


# -- 413 ------------------------------------------------------------------------------------------------
async def test_oversized_body_is_413(server_factory):
    srv = await server_factory(plugins=(EnvelopeRoutes(),), max_body_bytes=1024)
    big = '{"name": "' + "x" * 2000 + '"}'
    json_type = {"Content-Type": "application/json"}
    r = await srv.http.post("/api/v1/envelope.echo", content=big, headers=json_type)
    assert r.status_code == 413
    assert r.json() == {"success": False, "error": "Request entity too large"}

    async def chunks():   # no Content-Length: the limit must hold while reading the stream
        for _ in range(8):
            yield b" " * 256
        yield b'{"name": "x"}'

    r = await srv.http.post("/api/v1/envelope.echo", content=chunks(), headers=json_type)
    assert r.status_code == 413
    assert r.json()["success"] is False
    small = await srv.http.post("/api/v1/envelope.echo", json={"name": "fits"})
    assert small.status_code == 200 and small.json()["body"] == {"name": "fits"}


# -- 429 ------------------------------------------------------------------------------------------------
async def test_rate_limit_429_with_headers(server_factory):
    auth = StaticAuth({"bot": {"api-bypass-rate-limit"}})
    srv = await server_factory(plugins=(EnvelopeRoutes(), auth),
                               env={"OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default": "3"})
    before_ms = int(time.time() * 1000)
    remaining = []
    for _ in range(3):
        r = await srv.http.get("/api/v1/envelope.limited")
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "3"
        remaining.append(r.headers["X-RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    r = await srv.http.get("/api/v1/envelope.limited")
    assert r.status_code == 429
    body = r.json()
    assert body["success"] is False and body["error"] == "Too many requests"
    assert body["errorType"] == "error-too-many-requests"
    assert 0 < body["details"]["timeToReset"] <= 60000
    assert r.headers["X-RateLimit-Limit"] == "3" and r.headers["X-RateLimit-Remaining"] == "0"
    reset = int(r.headers["X-RateLimit-Reset"])
    assert before_ms + 59000 <= reset <= int(time.time() * 1000) + 60000
    # Limits are per route: another route is untouched.
    assert (await srv.http.get("/api/v1/envelope.other")).status_code == 200
    # Routes declared without a limit carry no headers.
    assert "X-RateLimit-Limit" not in (await srv.http.get("/api/v1/envelope/x")).headers
    # A caller holding api-bypass-rate-limit goes through the exhausted limit.
    bot = auth.add_user("bot", ("bot",))
    assert (await srv.http.get("/api/v1/envelope.limited", headers=bot)).status_code == 200


async def test_rate_limit_keys_on_forwarded_client_only_behind_a_proxy(server_factory):
    limit = {"OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default": "1"}
    direct = await server_factory(plugins=(EnvelopeRoutes(),), env=limit)
    statuses = [(await direct.http.get("/api/v1/envelope.limited", headers={"X-Forwarded-For": ip})).status_code
                for ip in ("10.0.0.1", "10.0.0.2")]
    assert statuses == [200, 429]   # without a declared proxy the header is the client's word: ignored
    proxied = await server_factory(plugins=(EnvelopeRoutes(),), env={**limit, "HTTP_FORWARDED_COUNT": "1"})
    statuses = [(await proxied.http.get("/api/v1/envelope.limited", headers={"X-Forwarded-For": ip})).status_code
                for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.1", "6.6.6.6, 10.0.0.2")]
    assert statuses == [200, 200, 429, 429]   # the hop the proxy appended counts, not what the client wrote


async def test_rate_limiter_can_be_switched_off(server_factory):
    srv = await server_factory(plugins=(EnvelopeRoutes(),),
                               env={"OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default": "1",
                                    "OVERWRITE_SETTING_API_Enable_Rate_Limiter": "false"})
    for _ in range(3):
        r = await srv.http.get("/api/v1/envelope.limited")
        assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers


# -- 400: bodies and queries ----------------------------------------------------------------------------
async def test_invalid_json_body_is_400(env_server):
    for raw in (b"{not json", b'{"name": "a"', b"\xff\xfe", b'{"name": NaN}'):
        r = await env_server.http.post("/api/v1/envelope.echo", content=raw,
                                       headers={"Content-Type": "application/json"})
        assert r.status_code == 400, raw
        assert r.json() == {"success": False, "error": "Invalid JSON body", "errorType": "invalid-params"}


async def test_body_must_be_an_object(env_server):
    for raw in (b"[1, 2]", b'"name"', b"42", b"null"):
        r = await env_server.http.post("/api/v1/envelope.echo", content=raw)
        assert r.status_code == 400, raw
        assert r.json()["errorType"] == "invalid-params"


@pytest.mark.parametrize("body, fragment", [
    ({}, "'name' is a required property"),
    ({"name": 5}, "name: 5 is not of type 'string'"),
    ({"name": "x" * 21}, "name: "),
    ({"name": "a", "count": -1}, "count: -1 is less than the minimum of 0"),
    ({"name": "a", "count": "3"}, "count: '3' is not of type 'integer'"),
    ({"name": "a", "admin": True}, "Additional properties are not allowed ('admin' was unexpected)"),
])
async def test_body_schema_violation_is_400_invalid_params(env_server, body, fragment):
    r = await env_server.http.post("/api/v1/envelope.echo", json=body)
    assert r.status_code == 400
    payload = r.json()
    assert payload["success"] is False and payload["errorType"] == "invalid-params"
    assert fragment in payload["error"]


async def test_query_string_is_coerced_then_validated(env_server):
    r = await env_server.http.get("/api/v1/envelope.search",
                                  params=[("q", "hi"), ("n", "7"), ("tags[]", "a"), ("tags[]", "b"),
                                          ("exact", "true")])
    assert r.json() == {"query": {"q": "hi", "n": 7, "tags": ["a", "b"], "exact": True}, "success": True}
    for params in ({"n": "eleven"}, {"n": "11"}, {"exact": "maybe"}, {"unknown": "1"}, {"q[$ne]": "x"}):
        r = await env_server.http.get("/api/v1/envelope.search", params=params)
        assert r.status_code == 400, params
        assert r.json()["errorType"] == "invalid-params"


# -- 500 ------------------------------------------------------------------------------------------------
async def test_unexpected_exception_is_500_without_traceback(env_server):
    for method in ("GET", "POST"):
        r = await env_server.http.request(method, "/api/v1/envelope.crash", json={})
        assert r.status_code == 500
        assert r.json() == INTERNAL
        assert_no_traceback(r)


async def test_no_error_body_leaks_internals(env_server):
    """Every failure status above, sampled once more: none carries a stack trace."""
    responses = [
        await env_server.http.get("/api/v1/envelope.me"),
        await env_server.http.get("/api/v1/envelope.nope"),
        await env_server.http.post("/api/v1/envelope.me"),
        await env_server.http.post("/api/v1/envelope.echo", content=b"{"),
        await env_server.http.post("/api/v1/envelope.echo", json={"name": 1}),
        await env_server.http.get("/api/v1/envelope.crash"),
    ]
    for r in responses:
        assert r.headers["content-type"].startswith("application/json")
        assert r.json()["success"] is False
        assert_no_traceback(r)


async def test_route_may_raise_its_own_body_limit(server_factory):
    from core import hookimpl
    from core.rest import Route

    class Upload:
        name = "upload_limit"

        @hookimpl
        def register_routes(self):
            async def echo(req):
                return {"size": len(req.body.get("blob", ""))}
            schema = {"type": "object", "properties": {"blob": {"type": "string"}}}
            return [Route("POST", "big.upload", echo, auth=False, body=schema, max_body=lambda: 4096),
                    Route("POST", "small.upload", echo, auth=False, body=schema)]

    srv = await server_factory(plugins=(Upload,), max_body_bytes=1024)
    r = await srv.http.post("/api/v1/big.upload", json={"blob": "x" * 3000})
    assert r.status_code == 200 and r.json()["size"] == 3000
    r = await srv.http.post("/api/v1/big.upload", json={"blob": "x" * 5000})
    assert r.status_code == 413 and r.json()["success"] is False
    r = await srv.http.post("/api/v1/small.upload", json={"blob": "x" * 3000})
    assert r.status_code == 413
