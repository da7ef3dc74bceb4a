"""App HTTP endpoints through one dispatcher route each for public and private URLs (Quart cannot remove
routes; apps come and go): `/api/apps/public/<appId>/<path>` and `/api/apps/private/<appId>/<hash>/<path>`.

The request reaches the app as plain data (`api:<endpoint path>`); its `{status, headers, content}` answer
is written back without the REST envelope, as Rocket.Chat does.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from quart import Response

from core.errors import ApiError, NotFound, Unauthorized
from core.rest import RestRequest, Route
from sandbox.protocol import RpcError

if TYPE_CHECKING:
    from plugins.apps_engine.service import AppsEngine

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
_VALUE = {"type": "string", "maxLength": 8192}
QUERY = {"type": "object", "maxProperties": 100, "additionalProperties": {
    "anyOf": [_VALUE, {"type": "array", "maxItems": 100, "items": _VALUE}]}}
# Credentials and hop-by-hop headers never reach an app.
PRIVATE_HEADERS = {"cookie", "authorization", "x-auth-token", "x-user-id", "proxy-authorization", "x-2fa-code",
                   "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"}
SANDBOX_POLICY = "sandbox allow-scripts allow-forms allow-popups allow-downloads"
# Headers an app may not set on its answer.
FORBIDDEN_OUT = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
                 "set-cookie", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}


def _content(raw: bytes | None, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            raise ApiError("Invalid JSON body", "invalid-params") from None
    if "application/x-www-form-urlencoded" in content_type:
        return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(text, keep_blank_values=True).items()}
    return text


def _response(answer: Any) -> Response:
    if not isinstance(answer, dict):
        answer = {"status": 500, "content": {"success": False, "error": "The app gave no valid response"}}
    status = answer.get("status", 200)
    status = status if isinstance(status, int) and 100 <= status <= 599 else 500
    headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()
               if isinstance(k, str) and k.lower() not in FORBIDDEN_OUT and "\n" not in str(v) and "\r" not in str(v)}
    content = answer.get("content")
    lower = {k.lower() for k in headers}
    if content is None:
        body = b""
    elif isinstance(content, (dict, list, int, float, bool)):
        body = json.dumps(content, default=str).encode()
        if "content-type" not in lower:
            headers["Content-Type"] = "application/json"
    else:
        body = str(content).encode()
        if "content-type" not in lower:
            headers["Content-Type"] = "text/plain; charset=utf-8"
    headers.setdefault("X-Content-Type-Options", "nosniff")
    response = Response(body, status=status, headers=headers)
    # A page an app serves runs in an opaque origin: it cannot read the chat's cookies or stored login tokens.
    # Added to (never replacing) any policy of the app's: browsers enforce every policy they are sent.
    response.headers.add("Content-Security-Policy", SANDBOX_POLICY)
    return response


class EndpointRoutes:
    def __init__(self, engine: AppsEngine) -> None:
        self.engine = engine

    def routes(self) -> list[Route]:
        common = {"auth": False, "raw_body": True, "query": QUERY, "rate_limit": None}
        return [Route(METHODS, "/api/apps/public/:appId/*path", self.public, **common),
                Route(METHODS, "/api/apps/private/:appId/:hash/*path", self.private, **common)]

    async def public(self, req: RestRequest) -> Response:
        return await self._dispatch(req, req.params["appId"], None, req.params["path"])

    async def private(self, req: RestRequest) -> Response:
        app_id, digest = req.params["appId"], req.params["hash"]
        record = self.engine.records.get(app_id)
        if record is None or record.get("_id") != digest:
            raise NotFound()
        return await self._dispatch(req, app_id, digest, req.params["path"])

    async def _dispatch(self, req: RestRequest, app_id: str, private_hash: str | None, path: str) -> Response:
        app = self.engine.running.get(app_id)
        found = app.endpoint(path.strip("/")) if app is not None else None
        if found is None:
            raise NotFound()
        endpoint, params = found
        method = "GET" if req.method == "HEAD" else req.method
        if method not in endpoint.methods:
            raise ApiError("Method not allowed", status=405)
        if endpoint.auth_required and req.ctx.user is None:
            raise Unauthorized()
        request: dict[str, Any] = {
            "method": method.lower(), "path": "/" + path.strip("/"), "params": params, "query": req.query,
            "headers": {k.lower(): v for k, v in req.headers.items() if k.lower() not in PRIVATE_HEADERS},
            "content": _content(req.raw_body, req.headers.get("Content-Type", "").lower())}
        if private_hash:
            request["privateHash"] = private_hash
        if req.ctx.user is not None:
            request["user"] = {k: req.ctx.user.get(k) for k in ("_id", "username", "name", "roles", "type")}
        try:
            answer = await app.handle("api:" + endpoint.path, request)
        except TimeoutError:
            return _response({"status": 504, "content": {"success": False, "error": "The app did not answer in time"}})
        except (RpcError, ConnectionError):
            return _response({"status": 500, "content": {"success": False, "error": "The app failed to answer"}})
        response = _response(answer)
        if req.method == "HEAD":
            response.set_data(b"")
        return response
