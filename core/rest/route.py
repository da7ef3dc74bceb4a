"""REST route declarations and the table that matches requests to them.

Quart cannot remove routes, and apps come and go at runtime, so every REST route lives in this table
behind one dispatcher instead of being a Quart rule.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core.validation import compile_schema

Handler = Callable[["Any"], Awaitable[Any]]

API_PREFIX = "/api/v1/"
DEFAULT_LIMIT = "default"


@dataclass
class Route:
    """One REST endpoint. Paths are relative to `/api/v1/` unless absolute; `:name` marks a path param and a
    final `*name` takes the rest of the path (app endpoints).

    auth:        a logged-in user is required (401 otherwise)
    permission:  every listed permission is required (403 otherwise); `any_permission`: at least one
    body/query:  jsonschema for the JSON body / the query string; None means the handler takes none
    paginated:   parse `count`/`offset`/`sort`/`fields`/`query` into `req.page`
    filter_fields / sort_fields: which fields `query=` may test and `sort=` may order by
    rate_limit:  (calls, milliseconds), DEFAULT_LIMIT for the settings' default, or None for no limit
    """

    method: str | tuple[str, ...]
    path: str
    handler: Handler
    auth: bool = True
    permission: str | tuple[str, ...] | None = None
    any_permission: tuple[str, ...] = ()
    body: dict | None = None
    query: dict | None = None
    paginated: bool = False
    filter_fields: tuple[str, ...] = ()
    sort_fields: tuple[str, ...] | None = None
    rate_limit: tuple[int, int] | str | None = DEFAULT_LIMIT
    # Body limit in bytes (or a callable giving it, for limits kept as settings); None: the kernel's default.
    max_body: int | Callable[[], int] | None = None
    multipart: bool = False  # body is multipart/form-data: form fields validated by `body`, files passed on
    #                          (a JSON body is accepted too and validated by the same `body` schema)
    raw_body: bool = False   # the handler gets the undecoded body in `req.raw_body` (app endpoints: opaque data)
    owner: str = ""          # plugin that declared it (set by the kernel)
    body_validator: Any = field(default=None, repr=False)
    query_validator: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        methods = (self.method,) if isinstance(self.method, str) else tuple(self.method)
        self.methods = tuple(m.upper() for m in methods)
        self.full_path = self.path if self.path.startswith("/") else API_PREFIX + self.path
        self.permissions = (self.permission,) if isinstance(self.permission, str) else tuple(self.permission or ())
        if self.body is not None:
            self.body_validator = compile_schema(self.body)
        if self.query is not None:
            self.query_validator = compile_schema(self.query)
        parts = self.full_path.strip("/").split("/")
        self.param_names = [p[1:] for p in parts if p[:1] in (":", "*")]
        if any(p.startswith("*") for p in parts[:-1]):
            raise ValueError(f"{self.full_path}: a *wildcard may only be the last segment")
        if self.param_names:
            pattern = "/".join("([^/]+)" if p.startswith(":") else "(.*)" if p.startswith("*") else re.escape(p)
                               for p in parts)
            self.regex = re.compile("^/" + pattern + "$")
        else:
            self.regex = None

    @property
    def key(self) -> str:
        return f"{'|'.join(self.methods)} {self.full_path}"


class RouteTable:
    def __init__(self) -> None:
        self._exact: dict[str, dict[str, Route]] = {}
        self._patterns: list[Route] = []

    def add(self, route: Route) -> None:
        if route.regex is None:
            slot = self._exact.setdefault(route.full_path, {})
        else:
            slot = {}
            for other in self._patterns:
                if other.full_path == route.full_path:
                    slot = {m: other for m in other.methods}
        for m in route.methods:
            if m in slot:
                raise ValueError(f"route {m} {route.full_path} declared by {slot[m].owner} and {route.owner}")
            slot[m] = route
        if route.regex is not None:
            self._patterns.append(route)

    def remove_owner(self, owner: str) -> None:
        for path, slot in list(self._exact.items()):
            for m, r in list(slot.items()):
                if r.owner == owner:
                    del slot[m]
            if not slot:
                del self._exact[path]
        self._patterns = [r for r in self._patterns if r.owner != owner]

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Return (route, path params, path_known). path_known without a route means 405."""
        slot = self._exact.get(path)
        if slot:
            route = slot.get(method) or (slot.get("GET") if method == "HEAD" else None)
            return route, {}, True
        known = False
        for route in self._patterns:
            m = route.regex.match(path)
            if m:
                known = True
                if method in route.methods or (method == "HEAD" and "GET" in route.methods):
                    return route, dict(zip(route.param_names, m.groups())), True
        return None, {}, known

    def __iter__(self):
        seen: set[int] = set()
        for slot in self._exact.values():
            for r in slot.values():
                if id(r) not in seen:
                    seen.add(id(r))
                    yield r
        for r in self._patterns:
            if id(r) not in seen:
                seen.add(id(r))
                yield r
