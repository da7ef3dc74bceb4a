"""JSON schemas for every messaging input. Ids and names are bounded strings; free-form content
(attachments, blocks, custom fields) may nest, but no key anywhere may start with `$` or contain a dot."""
from __future__ import annotations

from typing import Any

ID = {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{1,64}$"}
TEXT = {"type": "string", "maxLength": 200_000}      # the Message_MaxAllowedSize setting is checked in code
SHORT = {"type": "string", "maxLength": 1000}
BOOL_TEXT = {"type": ["boolean", "string"], "maxLength": 5}
URL = {"type": "string", "maxLength": 2048, "pattern": r"^(https?://|/)[^\s]*$"}
SAFE_KEY = {"pattern": r"^[A-Za-z_][A-Za-z0-9_\-]{0,99}$"}

# Any JSON value whose objects have safe keys (recursive; `$defs` is added at each schema's root).
DEFS = {"value": {"anyOf": [
    {"type": ["string", "number", "boolean", "null"], "maxLength": 100_000},
    {"type": "array", "maxItems": 200, "items": {"$ref": "#/$defs/value"}},
    {"type": "object", "maxProperties": 100, "propertyNames": SAFE_KEY,
     "additionalProperties": {"$ref": "#/$defs/value"}},
]}}
SAFE_OBJECT = {"type": "object", "maxProperties": 100, "propertyNames": SAFE_KEY,
               "additionalProperties": {"$ref": "#/$defs/value"}}
SAFE_LIST = {"type": "array", "maxItems": 100, "items": SAFE_OBJECT}


def schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema with only these properties (operator objects in place of scalars are refused)."""
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False,
                           "$defs": DEFS}
    if required:
        out["required"] = list(required)
    return out


CLIENT_MESSAGE = {
    "_id": ID, "rid": ID, "msg": TEXT, "tmid": ID, "tshow": {"type": "boolean"},
    "alias": {"type": "string", "maxLength": 200}, "emoji": {"type": "string", "maxLength": 200},
    "avatar": URL, "attachments": SAFE_LIST, "blocks": SAFE_LIST, "customFields": SAFE_OBJECT,
    "bot": SAFE_OBJECT, "groupable": {"type": "boolean"}, "t": {"type": "string", "maxLength": 64},
    "e2e": {"type": "string", "enum": ["pending", "done"]}, "content": SAFE_OBJECT,
    "roomId": ID,     # sent alongside `rid` by @rocket.chat/sdk; ignored
}
MESSAGE_OBJECT = {"type": "object", "properties": CLIENT_MESSAGE, "additionalProperties": False,
                  "required": ["rid"]}

SEND_BODY = schema({"message": MESSAGE_OBJECT, "previewUrls": {"type": "array", "maxItems": 10, "items": SHORT}},
                   ("message",))

ONE_OR_MANY = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 300},
                         {"type": "array", "minItems": 1, "maxItems": 20,
                          "items": {"type": "string", "minLength": 1, "maxLength": 300}}]}
POST_BODY = schema({
    "roomId": ONE_OR_MANY, "channel": ONE_OR_MANY, "text": TEXT, "msg": TEXT,
    "alias": {"type": "string", "maxLength": 200}, "emoji": {"type": "string", "maxLength": 200},
    "avatar": URL, "icon_url": URL, "icon_emoji": {"type": "string", "maxLength": 200},
    "attachments": SAFE_LIST, "blocks": SAFE_LIST, "tmid": ID, "tshow": {"type": "boolean"},
    "customFields": SAFE_OBJECT, "parseUrls": {"type": "boolean"}, "groupable": {"type": "boolean"},
    "bot": SAFE_OBJECT,
})
UPDATE_BODY = schema({"roomId": ID, "msgId": ID, "text": TEXT, "customFields": SAFE_OBJECT,
                      "previewUrls": {"type": "array", "maxItems": 10, "items": SHORT}},
                     ("roomId", "msgId", "text"))
DELETE_BODY = schema({"roomId": ID, "msgId": ID, "asUser": {"type": "boolean"}}, ("roomId", "msgId"))
MESSAGE_ID_BODY = schema({"messageId": ID}, ("messageId",))
REACT_BODY = schema({"messageId": ID, "emoji": {"type": "string", "maxLength": 100},
                     "reaction": {"type": "string", "maxLength": 100}, "shouldReact": {"type": "boolean"}},
                    ("messageId",))
FOLLOW_BODY = schema({"mid": ID}, ("mid",))

GET_MESSAGE_QUERY = schema({"msgId": ID}, ("msgId",))
THREAD_MESSAGES_QUERY = schema({"tmid": ID}, ("tmid",))
THREADS_LIST_QUERY = schema({"rid": ID, "type": {"type": "string", "enum": ["unread", "following", "all"]},
                             "text": SHORT}, ("rid",))
SEARCH_QUERY = schema({"roomId": ID, "searchText": SHORT}, ("roomId", "searchText"))
SYNC_QUERY = schema({"roomId": ID, "lastUpdate": {"type": "string", "maxLength": 40},
                     "type": {"type": "string", "enum": ["UPDATED", "DELETED"]},
                     "next": {"type": "string", "maxLength": 40}, "previous": {"type": "string", "maxLength": 40},
                     "count": {"type": "integer", "minimum": 0, "maximum": 10_000}}, ("roomId",))
ROOM_QUERY = schema({"roomId": ID}, ("roomId",))
DELETED_QUERY = schema({"roomId": ID, "since": {"type": "string", "maxLength": 40}}, ("roomId", "since"))

ROOM_SELECTOR = {"roomId": ID, "roomName": {"type": "string", "maxLength": 300}}
HISTORY_FIELDS = {
    "latest": {"type": "string", "maxLength": 40}, "oldest": {"type": "string", "maxLength": 40},
    "inclusive": BOOL_TEXT, "unreads": BOOL_TEXT, "showThreadMessages": BOOL_TEXT,
    "count": {"type": "integer", "minimum": 0}, "offset": {"type": "integer", "minimum": 0},
}
HISTORY_QUERY = schema({**ROOM_SELECTOR, **HISTORY_FIELDS})
IM_HISTORY_QUERY = schema({"roomId": ID, "username": {"type": "string", "maxLength": 300}, **HISTORY_FIELDS})
MESSAGES_QUERY = schema({**ROOM_SELECTOR, "mentionIds": {"type": "string", "maxLength": 2000},
                         "starredIds": {"type": "string", "maxLength": 2000}, "pinned": BOOL_TEXT})
IM_MESSAGES_QUERY = schema({"roomId": ID, "username": {"type": "string", "maxLength": 300},
                            "mentionIds": {"type": "string", "maxLength": 2000},
                            "starredIds": {"type": "string", "maxLength": 2000}, "pinned": BOOL_TEXT})
FILES_QUERY = schema({**ROOM_SELECTOR, "name": SHORT, "typeGroup": SHORT})
IM_FILES_QUERY = schema({"roomId": ID, "username": {"type": "string", "maxLength": 300}, "name": SHORT,
                         "typeGroup": SHORT})


def params(*items: dict[str, Any], min_items: int = 0) -> dict[str, Any]:
    """A DDP params-array schema: positional items, no extras."""
    return {"type": "array", "prefixItems": list(items), "items": False, "minItems": min_items, "$defs": DEFS}


# EJSON `{"$date": ms}` arrives as a datetime, which is no JSON type: "anything but a container".
DATE_OR_NULL = {"not": {"type": ["array", "object", "boolean"]}, "maxLength": 40}
LIMIT = {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 1000}, {"type": "null"}]}
BOOL_OR_NULL = {"type": ["boolean", "null"]}
DDP_MESSAGE = {"type": "object", "properties": {**CLIENT_MESSAGE, "ts": DATE_OR_NULL},
               "additionalProperties": False}
MID_OBJECT = {"type": "object", "properties": {"mid": ID}, "required": ["mid"], "additionalProperties": False}
# Clients pass whole message objects where only `_id` (and `rid`, `starred`) matter; the rest is ignored.
MESSAGE_REF = {"type": "object", "properties": {"_id": ID, "rid": ID, "starred": {"type": "boolean"}},
               "required": ["_id"], "maxProperties": 100, "propertyNames": SAFE_KEY}
