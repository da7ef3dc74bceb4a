"""Query-string parsing: coercion for validation, and `count`/`offset`/`sort`/`fields`/`query` turned into a
safe, whitelisted form. Nothing a client sends here is ever handed to MongoDB as-is."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from core.errors import ApiError, InvalidParams

SAFE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
ALWAYS_HIDDEN = frozenset({"joinCode", "members", "importIds", "e2e", "services", "inviteToken"})
PAGE_KEYS = ("count", "offset", "sort", "fields", "query")
MAX_IN = 200


@dataclass
class Page:
    count: int
    offset: int
    sort: list[tuple[str, int]] | None = None
    fields: dict[str, int] | None = None
    filter: dict[str, Any] = field(default_factory=dict)

    def slice(self, items: list) -> list:
        """Apply offset/count to an in-memory list."""
        end = None if self.count == 0 else self.offset + self.count
        return items[self.offset:end]

    def project(self, doc: dict) -> dict:
        """Apply the client's `fields` projection (always-hidden fields are never returned)."""
        out = {k: v for k, v in doc.items() if k not in ALWAYS_HIDDEN}
        if not self.fields:
            return out
        includes = {k for k, v in self.fields.items() if v}
        if includes:
            return {k: v for k, v in out.items() if k in includes or k == "_id"}
        return {k: v for k, v in out.items() if k not in self.fields}


def multi_dict(args: Any) -> dict[str, Any]:
    """Query args to a dict; repeated keys and `key[]=` forms become lists."""
    out: dict[str, Any] = {}
    for key in args.keys():
        values = args.getlist(key)
        name = key[:-2] if key.endswith("[]") else key
        if key.endswith("[]") or len(values) > 1:
            out.setdefault(name, [])
            if isinstance(out[name], list):
                out[name].extend(values)
        else:
            out[name] = values[0]
    return out


def coerce_query(raw: Mapping[str, Any], schema: dict) -> dict[str, Any]:
    """Convert query-string strings to the types the route's schema declares, so jsonschema can judge them."""
    props = schema.get("properties", {})
    out: dict[str, Any] = {}
    for key, value in raw.items():
        kind = props.get(key, {}).get("type")
        out[key] = _coerce(value, kind, props.get(key, {}))
    return out


def _coerce(value: Any, kind: Any, prop: dict) -> Any:
    if isinstance(value, list):
        if kind == "array":
            item_kind = prop.get("items", {}).get("type")
            return [_coerce(v, item_kind, prop.get("items", {})) for v in value]
        return value
    if kind == "array":
        return [v for v in value.split(",") if v] if value else []
    try:
        if kind == "integer" and re.fullmatch(r"-?\d{1,15}", value):
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _json_object(raw: str, what: str, error_type: str) -> dict:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(f"Invalid {what} parameter provided", error_type) from None
    if not isinstance(value, dict):
        raise ApiError(f"Invalid {what} parameter provided", error_type)
    return value


def _int_param(raw: Any, name: str) -> int:
    if raw is None or raw == "":
        return -1
    if isinstance(raw, str) and re.fullmatch(r"\d{1,9}", raw):
        return int(raw)
    raise InvalidParams(f"must be a non-negative integer: {name}")


def parse_page(raw: Mapping[str, Any], settings: Any, *, filter_fields: tuple[str, ...] = (),
               sort_fields: tuple[str, ...] | None = None) -> Page:
    """Build a `Page` from query args, enforcing the pagination settings and the route's whitelists."""
    default = int(settings.get("API_Default_Count", 50))
    upper = int(settings.get("API_Upper_Count_Limit", 100))
    count = _int_param(raw.get("count"), "count")
    offset = max(0, _int_param(raw.get("offset"), "offset"))
    if count < 0:
        count = default
    elif count == 0 and not settings.get("API_Allow_Infinite_Count", True):
        count = default
    if count > upper:
        count = upper
    page = Page(count=count, offset=offset)
    if raw.get("sort"):
        page.sort = _parse_sort(raw["sort"], sort_fields)
    if raw.get("fields"):
        page.fields = _parse_fields(raw["fields"])
    if raw.get("query"):
        page.filter = parse_filter(raw["query"], filter_fields)
    return page


def _parse_sort(raw: Any, allowed: tuple[str, ...] | None) -> list[tuple[str, int]]:
    obj = _json_object(raw, "sort", "error-invalid-sort") if isinstance(raw, str) else None
    if obj is None:
        raise ApiError("Invalid sort parameter provided", "error-invalid-sort")
    out = []
    for key, direction in obj.items():
        if not SAFE_FIELD.match(key) or direction not in (1, -1) or (allowed is not None and key not in allowed):
            raise ApiError("Invalid sort parameter provided", "error-invalid-sort")
        out.append((key, direction))
    return out


def _parse_fields(raw: Any) -> dict[str, int]:
    obj = _json_object(raw, "fields", "error-invalid-fields") if isinstance(raw, str) else None
    if obj is None:
        raise ApiError("Invalid fields parameter provided", "error-invalid-fields")
    out: dict[str, int] = {}
    for key, flag in obj.items():
        if not SAFE_FIELD.match(key) or flag not in (0, 1, True, False):
            raise ApiError("Invalid fields parameter provided", "error-invalid-fields")
        if key not in ALWAYS_HIDDEN:
            out[key] = int(flag)
    if len(set(out.values())) > 1:
        raise ApiError("Invalid fields parameter provided: cannot mix inclusion and exclusion",
                       "error-invalid-fields")
    return out


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def parse_filter(raw: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """`query=` as an equality filter: each key a whitelisted field, each value a scalar or `{"$in": [scalars]}`.

    Every other operator (`$ne`, `$regex`, `$where`, `$expr`, top-level `$or`, ...) is refused with 400.
    """
    obj = _json_object(raw, "query", "error-invalid-query") if isinstance(raw, str) else None
    if obj is None:
        raise ApiError("Invalid query parameter provided", "error-invalid-query")
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key.startswith("$") or not SAFE_FIELD.match(key) or key not in allowed:
            raise ApiError(f"Invalid query parameter provided: field {key!r} may not be queried",
                           "error-invalid-query")
        if _scalar(value):
            out[key] = value
        elif (isinstance(value, dict) and list(value) == ["$in"] and isinstance(value["$in"], list)
              and len(value["$in"]) <= MAX_IN and all(_scalar(v) for v in value["$in"])):
            out[key] = {"$in": list(value["$in"])}
        else:
            raise ApiError(f"Invalid query parameter provided: unsupported condition on {key!r}",
                           "error-invalid-query")
    return out
