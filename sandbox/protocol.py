"""Framed JSON-RPC 2.0 between the server and an app process.

A frame is a 4-byte big-endian length followed by an EJSON body (dates as `{"$date": ms}`). Both sides send
requests and answer the other's: a message with `method` is a request (or, without `id`, a notification);
one without is the answer to the receiver's own request. Error codes follow JSON-RPC.
"""
from __future__ import annotations

import asyncio
import struct
from datetime import UTC, datetime
from typing import Any

import orjson

MAX_FRAME = 16 * 1024 * 1024
PARSE_ERROR = -32700
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
APP_ERROR = -32000      # the handler raised
DENIED = -32001         # an accessor the manifest does not allow
_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    pass


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        if obj.tzinfo is None:
            obj = obj.replace(tzinfo=UTC)
        return {"$date": int(obj.timestamp() * 1000)}
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise TypeError(f"cannot send {type(obj).__name__} over the app channel")


def _decode(value: Any) -> Any:
    """EJSON dates back to datetimes, in place (a frame's objects are fresh): this walk runs on every message
    an app is shown, so it skips scalars without a call."""
    t = type(value)
    if t is dict:
        if len(value) == 1 and "$date" in value and isinstance(value["$date"], (int, float)):
            return datetime.fromtimestamp(value["$date"] / 1000, tz=UTC)
        for k, v in value.items():
            tv = type(v)
            if tv is dict or tv is list:
                value[k] = _decode(v)
    elif t is list:
        for i, v in enumerate(value):
            tv = type(v)
            if tv is dict or tv is list:
                value[i] = _decode(v)
    return value


def encode(message: dict[str, Any]) -> bytes:
    body = orjson.dumps(message, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS)
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME}")
    return _HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    msg = orjson.loads(body)
    if b'"$date"' in body:
        msg = _decode(msg)
    if not isinstance(msg, dict):
        raise ProtocolError("a frame must hold a JSON object")
    return msg


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message, or None at end of stream."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ProtocolError(f"peer announced a frame of {size} bytes")
    try:
        body = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        return None
    return decode(body)


def request(mid: Any, method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": mid, "method": method, "params": params}


def notification(method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def result(mid: Any, value: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": mid, "result": value}


def error(mid: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": mid, "error": err}
