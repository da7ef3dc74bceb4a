"""JSON for REST (dates as ISO-8601 strings) and EJSON for DDP (dates as `{"$date": ms}`)."""
from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson

_OPTS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_ms(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def from_ms(ms: int | float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _rest_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return iso(obj)
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(by_alias=True)
    return str(obj)  # ObjectId and friends


def _ejson_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return {"$date": to_ms(obj)}
    if isinstance(obj, bytes):
        return {"$binary": base64.b64encode(obj).decode()}
    return _rest_default(obj)


def dumps(value: Any) -> bytes:
    """REST JSON."""
    return orjson.dumps(value, default=_rest_default, option=_OPTS)


def ejson_dumps(value: Any) -> bytes:
    """DDP EJSON."""
    return orjson.dumps(value, default=_ejson_default, option=_OPTS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def ejson_decode(value: Any) -> Any:
    """Turn EJSON special objects into Python values, recursively. `$date` → aware datetime."""
    if isinstance(value, dict):
        if len(value) == 1:
            (key, inner), = value.items()
            if key == "$date" and isinstance(inner, (int, float)) and not isinstance(inner, bool):
                return from_ms(inner)
            if key == "$binary" and isinstance(inner, str):
                try:
                    return base64.b64decode(inner, validate=True)
                except ValueError:
                    return value
            if key == "$escape" and isinstance(inner, dict):
                return {k: ejson_decode(v) for k, v in inner.items()}
        return {k: ejson_decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ejson_decode(v) for v in value]
    return value


def ejson_loads(data: bytes | str) -> Any:
    return ejson_decode(orjson.loads(data))


def copy_tree(value: Any) -> Any:
    """A copy of a JSON-like document (dicts and lists copied, scalars and datetimes shared: immutable),
    several times cheaper than `copy.deepcopy`, which also handles what documents never contain."""
    kind = type(value)
    if kind is dict:
        return {k: copy_tree(v) for k, v in value.items()}
    if kind is list:
        return [copy_tree(v) for v in value]
    return value
