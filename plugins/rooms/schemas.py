"""jsonschemas for every body and query the rooms routes and methods accept. Room and user lookups are
strings only, so an operator object (`{"$ne": null}`) is refused with 400 before a handler runs."""
from __future__ import annotations

from typing import Any

from plugins.rooms.room_settings import CUSTOM_FIELDS, SETTING_SCHEMAS

ID = {"type": "string", "minLength": 1, "maxLength": 100}
NAME = {"type": "string", "maxLength": 200}
USERNAME = {"type": "string", "minLength": 1, "maxLength": 120}
TEXT = {"type": ["string", "null"], "maxLength": 5000}
FLAG = {"type": "boolean"}
DATE = {"type": "string", "maxLength": 64}
USERNAMES = {"type": "array", "maxItems": 1000, "items": USERNAME}

ROOM = {"roomId": ID, "roomName": NAME}
USER = {"userId": ID, "username": USERNAME, "user": USERNAME}

# Room properties a creator may set through `extraData` (others are the server's: `u`, `msgs`, `t`, ...).
EXTRA_DATA = {
    "type": "object", "additionalProperties": False,
    "properties": {"broadcast": FLAG, "encrypted": FLAG, "reactWhenReadOnly": FLAG, "topic": TEXT,
                   "description": TEXT, "announcement": TEXT, "teamId": ID, "federated": {"const": False},
                   "sysMes": {"anyOf": [FLAG, {"type": "array", "maxItems": 100,
                                                "items": {"type": "string", "maxLength": 100}}]}},
}


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False, **extra}
    if required:
        schema["required"] = required
    return schema


def with_room(**props: Any) -> dict[str, Any]:
    return obj({**ROOM, **props})


NO_QUERY = obj({})
ROOM_ONLY = with_room()
CREATE = obj({"name": NAME, "members": USERNAMES, "readOnly": FLAG, "excludeSelf": FLAG,
              "customFields": CUSTOM_FIELDS, "extraData": EXTRA_DATA,
              "teams": {"type": "array", "maxItems": 50, "items": NAME}}, ["name"])
JOIN = with_room(joinCode={"type": ["string", "null"], "maxLength": 200})
INVITE = with_room(userIds={"type": "array", "maxItems": 1000, "items": ID}, usernames=USERNAMES, **USER)
USER_IN_ROOM = with_room(**USER)
MEMBERS = with_room(filter={"type": "string", "maxLength": 200},
                    status={"type": "array", "maxItems": 4,
                            "items": {"enum": ["online", "away", "busy", "offline"]}})
COUNTERS = with_room(userId=ID)


def room_value(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    return obj({**ROOM, key: schema}, [key])


SET_TOPIC = room_value("topic", TEXT)
SET_DESCRIPTION = room_value("description", TEXT)
SET_PURPOSE = room_value("purpose", TEXT)
SET_ANNOUNCEMENT = room_value("announcement", TEXT)
RENAME = room_value("name", NAME)
SET_TYPE = room_value("type", {"enum": ["c", "p"]})
SET_READ_ONLY = room_value("readOnly", FLAG)
SET_JOIN_CODE = room_value("joinCode", {"type": "string", "maxLength": 200})
SET_DEFAULT = room_value("default", {"anyOf": [FLAG, {"enum": ["true", "false", "1", "0"]}]})
SET_CUSTOM_FIELDS = room_value("customFields", CUSTOM_FIELDS)

IM_CREATE = {"oneOf": [obj({"username": USERNAME, "excludeSelf": FLAG}, ["username"]),
                       obj({"usernames": {"type": "string", "minLength": 1, "maxLength": 2000},
                            "excludeSelf": FLAG}, ["usernames"])]}
IM_ROOM = obj({"roomId": ID, "username": USERNAME})
IM_ROOM_ID = obj({"roomId": ID}, ["roomId"])
IM_MEMBERS = obj({"roomId": ID, "username": USERNAME, "filter": {"type": "string", "maxLength": 200},
                  "status": MEMBERS["properties"]["status"]})
IM_COUNTERS = obj({"roomId": ID, "userId": ID}, ["roomId"])
IM_SET_TOPIC = obj({"roomId": ID, "topic": TEXT}, ["roomId"])

UPDATED_SINCE = obj({"updatedSince": DATE})
ROOMS_INFO = with_room()
ROOMS_FAVORITE = obj({**ROOM, "favorite": FLAG}, ["favorite"])
ROOMS_DELETE = obj({"roomId": ID}, ["roomId"])
NAME_EXISTS = obj({"roomName": NAME}, ["roomName"])
SAVE_ROOM_SETTINGS = obj({"rid": ID, **SETTING_SCHEMAS}, ["rid"])
SUBSCRIPTION_ONE = obj({"roomId": ID}, ["roomId"])
SUBSCRIPTIONS_READ = obj({"rid": ID, "roomId": ID, "readThreads": FLAG})
SUBSCRIPTIONS_UNREAD = obj({"roomId": ID, "firstUnreadMessage": obj({"_id": ID}, ["_id"])})

# -- DDP params (arrays) --------------------------------------------------------------------------
ANY_DATE: dict[str, Any] = {}   # EJSON dates arrive decoded to datetimes; handlers use only a datetime


def params(*items: dict[str, Any], required: int = 0) -> dict[str, Any]:
    return {"type": "array", "prefixItems": list(items), "items": False, "minItems": required}


NULLABLE_FLAG = {"type": ["boolean", "null"]}
NULLABLE_OBJECT = {"type": ["object", "null"]}
CREATE_PARAMS = params(NAME, {"type": ["array", "null"], "maxItems": 1000, "items": USERNAME}, NULLABLE_FLAG,
                       {"anyOf": [CUSTOM_FIELDS, {"type": "null"}]}, {"anyOf": [EXTRA_DATA, {"type": "null"}]},
                       required=1)
USERNAMES_PARAMS = {"type": "array", "items": USERNAME, "minItems": 1, "maxItems": 50}
RID_PARAMS = params(ID, required=1)
JOIN_PARAMS = params(ID, {"type": ["string", "null"], "maxLength": 200}, required=1)
SINCE_PARAMS = params(ANY_DATE)
READ_PARAMS = params(ID, NULLABLE_FLAG, required=1)
FAVORITE_PARAMS = params(ID, FLAG, required=2)
TYPE_NAME_PARAMS = params({"enum": ["c", "p", "d"]}, NAME, required=2)
# The setting names and values are checked by the service (Rocket.Chat's `error-invalid-settings`).
SAVE_SETTINGS_PARAMS = {"type": "array", "minItems": 2, "maxItems": 3,
                        "prefixItems": [ID, {"anyOf": [{"type": "string", "maxLength": 100},
                                                       {"type": "object", "maxProperties": 30}]}, {}]}
