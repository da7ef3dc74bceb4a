"""What a message may contain, depending on who wrote which part: client fields, hook additions, server fields.

Clients set content; the server alone sets identity and state (`u`, `ts`, `pinned`, `editedBy`, ...).
Rocket.Chat accepted server fields from clients once (a CVE); here they never get past these functions.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from core.errors import ApiError
from plugins.messaging.constants import CLIENT_TYPES

# Fields a client may set on a new message (REST chat.sendMessage, DDP sendMessage, chat.postMessage).
CLIENT_FIELDS = ("_id", "rid", "msg", "tmid", "tshow", "alias", "emoji", "avatar", "attachments", "blocks",
                 "customFields", "bot", "groupable", "t", "e2e", "content")
# State only the server writes; a `pre_*_modify` hook's replacement keeps the stored values of these.
SERVER_FIELDS = ("_id", "rid", "u", "ts", "t", "_updatedAt", "editedAt", "editedBy", "pinned", "pinnedAt",
                 "pinnedBy", "starred", "reactions", "tcount", "tlm", "replies", "_hidden", "parent", "tmid",
                 "drid", "dcount", "dlm", "file", "files")
IMPERSONATION = ("alias", "avatar", "emoji")


def client_message(raw: dict[str, Any]) -> dict[str, Any]:
    """Keep the client-settable fields of an already schema-checked message, dropping empty ones."""
    msg = {k: copy.deepcopy(raw[k]) for k in CLIENT_FIELDS if k in raw and raw[k] is not None}
    if msg.get("t") is not None and msg["t"] not in CLIENT_TYPES:
        raise ApiError("Cannot send system messages using 'sendMessage'", "error-invalid-message-type")
    if msg.get("tshow") is not True:
        msg.pop("tshow", None)
    for key in IMPERSONATION:
        if msg.get(key) == "":
            msg.pop(key)
    if not isinstance(msg.get("msg"), str):
        msg["msg"] = ""
    return msg


def merge_extensions(message: dict[str, Any], additions: Iterable[Any]) -> dict[str, Any]:
    """`pre_*_extend` answers are additive: attachments are appended, customFields merged, the rest ignored."""
    for extra in additions:
        if not isinstance(extra, dict):
            continue
        attachments = extra.get("attachments")
        if isinstance(attachments, list):
            items = [copy.deepcopy(a) for a in attachments if isinstance(a, dict)]
            message["attachments"] = list(message.get("attachments") or []) + items
        fields = extra.get("customFields")
        if isinstance(fields, dict):
            message["customFields"] = {**(message.get("customFields") or {}), **copy.deepcopy(fields)}
    return message


def keep_identity(replacement: Any, original: dict[str, Any]) -> dict[str, Any]:
    """A `pre_*_modify` answer replaces the content; identity and server state stay as they were."""
    if not isinstance(replacement, dict):
        return original
    out = {k: v for k, v in replacement.items() if isinstance(k, str) and not k.startswith("$") and "." not in k}
    for key in SERVER_FIELDS:
        if key in original:
            out[key] = original[key]
        else:
            out.pop(key, None)
    if not isinstance(out.get("msg"), str):
        out["msg"] = original.get("msg", "")
    return out


def check_custom_fields(fields: Any, enabled: bool, schema_text: str) -> None:
    """Client custom fields need `Message_CustomFields_Enabled` and must fit the `Message_CustomFields`
    JSON schema (Rocket.Chat's validateCustomMessageFields)."""
    if fields is None:
        return
    if not enabled:
        raise ApiError("Custom fields not enabled", "error-custom-fields-not-enabled")
    try:
        schema = orjson.loads(schema_text or "{}")
        Draft202012Validator.check_schema(schema)
    except (orjson.JSONDecodeError, SchemaError):
        raise ApiError("Invalid custom fields config", "error-invalid-custom-fields-config") from None
    errors = list(Draft202012Validator(schema).iter_errors(fields))
    if errors:
        raise ApiError(f"Invalid custom fields: {errors[0].message}", "error-invalid-custom-fields")


LINK_FIELDS = ("title_link", "image_url", "author_link", "author_icon", "thumb_url", "message_link",
               "audio_url", "video_url", "url")
UNSAFE_LINK = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)


def check_attachments(attachments: Any, depth: int = 0) -> None:
    """Rocket.Chat's validateAttachment: links may not run script, fields need a title and a value."""
    for item in attachments or ():
        if not isinstance(item, dict):
            continue
        for holder in (item, *[a for a in item.get("actions") or () if isinstance(a, dict)]):
            for key in LINK_FIELDS:
                if isinstance(holder.get(key), str) and UNSAFE_LINK.match(holder[key]):
                    raise ApiError("Invalid href value provided", "error-invalid-attachment")
        for entry in item.get("fields") or ():
            if not isinstance(entry, dict) or entry.get("value") in (None, "") or not entry.get("title"):
                raise ApiError("Invalid attachment field, title and value is required", "error-invalid-attachment")
        if depth < 3:
            check_attachments(item.get("attachments"), depth + 1)


def attachment_text_size(attachments: Any) -> int:
    return max((len(a.get("text") or "") for a in attachments or () if isinstance(a, dict)
                and isinstance(a.get("text"), str)), default=0)


def diff_update(previous: dict[str, Any], final: dict[str, Any]) -> dict[str, Any]:
    """`$set` the changed fields and `$unset` the removed ones, so a concurrent reaction or pin is kept."""
    changed = {k: v for k, v in final.items() if k != "_id" and previous.get(k, _MISSING) != v}
    removed = {k: "" for k in previous if k not in final and k != "_id"}
    update: dict[str, Any] = {}
    if changed:
        update["$set"] = changed
    if removed:
        update["$unset"] = removed
    return update


_MISSING = object()
