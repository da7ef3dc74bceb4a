"""The one REST dispatcher: match, authenticate, rate-limit, authorise, validate, call, wrap."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from quart import Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from core import jsonutil
from core.context import Context
from core.errors import ApiError, Forbidden, InvalidParams, NotFound, TooManyRequests, Unauthorized
from core.rest.params import PAGE_KEYS, coerce_query, multi_dict, parse_page
from core.rest.request import RestRequest
from core.rest.route import DEFAULT_LIMIT, Route
from core.security import hash_token
from core.validation import validate

if TYPE_CHECKING:
    from core.kernel import Kernel

log = logging.getLogger("orbitchat.rest")

JSON = "application/json"


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(jsonutil.dumps(body), status=status, content_type=JSON, headers=headers)


def error_response(err: ApiError, headers: dict | None = None) -> Response:
    return json_response(err.rest_body(), err.status, headers)


def http_error(exc: HTTPException) -> ApiError:
    code = exc.code or 500
    messages = {404: "Resource not found", 405: "Method not allowed", 413: "Request entity too large",
                429: "Too many requests"}
    return ApiError(messages.get(code, "Internal server error" if code >= 500 else "Bad request"), status=code)


def route_limit(route: Route | None, default: int) -> int:
    if route is None or route.max_body is None:
        return default
    return route.max_body() if callable(route.max_body) else route.max_body


def limit_body(limit: int) -> None:
    """Bound this request's body. The app sets no global limit (routes may raise theirs), so every request
    gets one here, first thing: Quart's Body then refuses data past it as it arrives."""
    body = request.body
    body._max_content_length = limit          # Quart has no public setter on the Body itself
    if (request.content_length or 0) > limit or len(body._data) > limit:
        raise RequestEntityTooLarge()


class RestDispatcher:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def __call__(self, path: str) -> Response:
        full_path = "/api/" + path
        route, params, known = self.kernel.routes.match(request.method, full_path)
        try:
            limit_body(route_limit(route, self.kernel.config.max_body_bytes))
        except HTTPException as exc:
            return error_response(http_error(exc))
        if route is None:
            if known:
                return error_response(ApiError("Method not allowed", status=405))
            return error_response(NotFound())
        headers: dict[str, str] = {}
        try:
            return await self._handle(route, params, headers)
        except ApiError as err:
            return error_response(err, headers)
        except HTTPException as exc:  # e.g. 413 raised while reading an oversized body
            return error_response(http_error(exc), headers)
        except Exception:
            log.exception("unhandled error in %s (%s)", route.key, route.owner)
            return error_response(ApiError("Internal server error", status=500), headers)

    async def _handle(self, route: Route, params: dict[str, str], headers: dict[str, str]) -> Response:
        kernel = self.kernel
        ctx = await self._context()
        if route.auth and ctx.user is None:
            raise Unauthorized()
        await self._rate_limit(route, ctx, headers)
        for perm in route.permissions:
            if not await kernel.has_permission(ctx.user, perm):
                raise Forbidden()
        if route.any_permission and not await kernel.has_any_permission(ctx.user, route.any_permission):
            raise Forbidden()
        body, files = await self._body(route)
        raw_body = await request.get_data() if route.raw_body else None
        raw_query = multi_dict(request.args)
        page = None
        if route.paginated:
            page = parse_page(raw_query, kernel.settings, filter_fields=route.filter_fields,
                              sort_fields=route.sort_fields)
            raw_query = {k: v for k, v in raw_query.items() if k not in PAGE_KEYS}
        query: dict[str, Any] = {}
        if route.query_validator is not None:
            query = coerce_query(raw_query, route.query)
            validate(route.query_validator, query)
        req = RestRequest(ctx=ctx, method=request.method, path=request.path, body=body, query=query,
                          params=params, page=page, headers=request.headers, files=files, raw_body=raw_body)
        result = await route.handler(req)
        if isinstance(result, Response):
            for k, v in headers.items():
                result.headers[k] = v
            return result
        payload = dict(result or {})
        payload["success"] = True
        return json_response(payload, 200, headers)

    async def _context(self) -> Context:
        ctx = Context(ip=self.kernel.client_ip(request.headers, request.remote_addr),
                      user_agent=request.headers.get("User-Agent"))
        uid = request.headers.get("X-User-Id")
        token = request.headers.get("X-Auth-Token")
        if not uid or not token:
            return ctx
        if len(uid) > 64 or len(token) > 256:
            raise Unauthorized()
        token_hash = hash_token(token)
        user = await self.kernel.user_by_token(uid, token_hash)
        if user is None:
            # A stale or revoked token is a 401 even on routes that also serve anonymous callers.
            raise Unauthorized()
        return Context(user=user, token_hash=token_hash, ip=ctx.ip, user_agent=ctx.user_agent)

    async def _rate_limit(self, route: Route, ctx: Context, headers: dict[str, str]) -> None:
        rule = route.rate_limit
        settings = self.kernel.settings
        if rule is None or not settings.get("API_Enable_Rate_Limiter", True):
            return
        if rule == DEFAULT_LIMIT:
            rule = (int(settings.get("API_Enable_Rate_Limiter_Limit_Calls_Default", 10)),
                    int(settings.get("API_Enable_Rate_Limiter_Limit_Time_Default", 60000)))
        calls, interval = rule
        allowed, remaining, reset = self.kernel.rate_limiter.hit((route.key, ctx.ip), calls, interval)
        headers.update({"X-RateLimit-Limit": str(calls), "X-RateLimit-Remaining": str(remaining),
                        "X-RateLimit-Reset": str(reset)})
        if allowed:
            return
        # Only a refused call pays for the bypass check.
        if ctx.user is not None and await self.kernel.has_permission(ctx.user, "api-bypass-rate-limit"):
            return
        raise TooManyRequests(max(0, reset - int(time.time() * 1000)))

    async def _body(self, route: Route) -> tuple[dict[str, Any], Any]:
        if request.method in ("GET", "HEAD") or route.raw_body:
            return {}, None
        if route.multipart and request.mimetype != JSON:
            form = await request.form
            files = await request.files
            body = {k: form.get(k) for k in form.keys()}
            if route.body_validator is not None:
                validate(route.body_validator, body)
            return body, files
        data = await request.get_data()
        if route.body_validator is None:
            return {}, None
        if not data or not data.strip():
            body: Any = {}
        else:
            try:
                body = jsonutil.loads(data)
            except ValueError:
                raise ApiError("Invalid JSON body", "invalid-params") from None
        if not isinstance(body, dict):
            raise InvalidParams("The request body must be a JSON object")
        validate(route.body_validator, body)
        return body, None
