"""jsonschemas for every body and query the teams routes accept. Team, room and user lookups are strings
only, so an operator object (`{"$ne": null}`) is refused with 400 before a handler runs."""
from __future__ import annotations

from typing import Any

from plugins.teams.constants import TEAM_ROLES

ID = {"type": "string", "minLength": 1, "maxLength": 100}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
SEARCH = {"type": "string", "maxLength": 200}
TEXT = {"type": ["string", "null"], "maxLength": 5000}
FLAG = {"type": "boolean"}
TEAM_TYPE = {"type": "integer", "enum": [0, 1]}
ROOM_IDS = {"type": ["array", "null"], "maxItems": 500, "items": ID}
ROLES = {"type": ["array", "null"], "maxItems": len(TEAM_ROLES), "items": {"enum": list(TEAM_ROLES)}}
STATUSES = {"type": "array", "maxItems": 4, "items": {"enum": ["online", "away", "busy", "offline"]}}

TEAM = {"teamId": ID, "teamName": NAME}
TEAM_REQUIRED = [{"required": ["teamId"]}, {"required": ["teamName"]}]


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False, **extra}
    if required:
        schema["required"] = required
    return schema


def team_obj(required: list[str] | None = None, **props: Any) -> dict[str, Any]:
    """A team named by `teamId` or `teamName`, plus `props`."""
    return obj({**TEAM, **props}, required, anyOf=TEAM_REQUIRED)


# Room properties a team creator may set on the main room (the rest are the server's: `u`, `t`, `teamMain`...).
EXTRA_DATA = obj({"broadcast": FLAG, "encrypted": FLAG, "reactWhenReadOnly": FLAG, "topic": TEXT,
                  "description": TEXT, "announcement": TEXT})
ROOM = obj({"name": NAME, "readOnly": FLAG, "extraData": EXTRA_DATA})
SIDEPANEL = obj({"items": {"type": "array", "maxItems": 2, "uniqueItems": True,
                           "items": {"enum": ["channels", "discussions"]}}}, ["items"])
MEMBER = obj({"userId": ID, "roles": ROLES}, ["userId"])

CREATE = obj({"name": NAME, "type": TEAM_TYPE,
              "members": {"type": ["array", "null"], "maxItems": 1000, "items": {"type": "string", "maxLength": 120}},
              "room": ROOM, "owner": ID, "sidepanel": SIDEPANEL}, ["name", "type"])
TEAM_ONLY = team_obj()
ADD_MEMBERS = team_obj(["members"], members={"type": "array", "minItems": 1, "maxItems": 1000, "items": MEMBER})
REMOVE_MEMBER = team_obj(["userId"], userId=ID, rooms=ROOM_IDS)
UPDATE_MEMBER = team_obj(["member"], member=MEMBER)
LEAVE = team_obj(rooms=ROOM_IDS)
DELETE = team_obj(roomsToRemove=ROOM_IDS)
UPDATE = team_obj(["data"], data=obj({"name": NAME, "type": TEAM_TYPE, "updateRoom": FLAG}))
ADD_ROOMS = team_obj(["rooms"], rooms={"type": "array", "minItems": 1, "maxItems": 500, "items": ID})
REMOVE_ROOM = team_obj(["roomId"], roomId=ID)
UPDATE_ROOM = obj({"roomId": ID, "isDefault": FLAG}, ["roomId", "isDefault"])

NO_QUERY = obj({})
MEMBERS_QUERY = team_obj(status=STATUSES, username=SEARCH, name=SEARCH)
LIST_ROOMS_QUERY = team_obj(filter=SEARCH, type={"type": "string", "maxLength": 50})
LIST_ROOMS_OF_USER_QUERY = team_obj(["userId"], userId=ID, canUserDelete=FLAG)
AUTOCOMPLETE_QUERY = obj({"name": SEARCH}, ["name"])

CHANNEL_CONVERT = obj({"channelId": ID, "channelName": NAME},
                      anyOf=[{"required": ["channelId"]}, {"required": ["channelName"]}])
GROUP_CONVERT = obj({"roomId": ID, "roomName": NAME}, anyOf=[{"required": ["roomId"]}, {"required": ["roomName"]}])
