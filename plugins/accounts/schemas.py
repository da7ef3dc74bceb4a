"""jsonschemas for every body, query and DDP params array the accounts service accepts.

Strings are bounded, objects closed: an operator object (`{"$ne": null}`, `{"$regex": ".*"}`) where a
string is expected is refused with 400 before any handler runs.
"""
from __future__ import annotations

from typing import Any


def s(max_length: int = 256, min_length: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "maxLength": max_length}
    if min_length:
        out["minLength"] = min_length
    return out


def obj(props: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False, **extra}
    if required:
        out["required"] = list(required)
    return out


NAME = s(120)
USERNAME = s(120, 1)
EMAIL = {"type": "string", "maxLength": 254, "minLength": 3, "pattern": r"^[^@\s]+@[^@\s]+$"}
PASSWORD = s(1024, 1)
ID = s(64, 1)
TOKEN = s(512, 1)
SCALAR = {"type": ["string", "boolean", "number", "null"], "maxLength": 4096}
FLAT_OBJECT = {"type": "object", "maxProperties": 50, "propertyNames": {"pattern": r"^[A-Za-z][A-Za-z0-9_]{0,63}$"},
               "additionalProperties": SCALAR}
# Keys a login credential may carry besides the known ones (for `provide_authentication` plugins).
EXTRA_KEYS = {"propertyNames": {"pattern": r"^[A-Za-z][A-Za-z0-9_]{0,63}$"}, "maxProperties": 30,
              "additionalProperties": {"anyOf": [SCALAR, FLAT_OBJECT]}}
DIGEST = obj({"digest": s(128, 1), "algorithm": s(20)}, ("digest",))

LOGIN_BODY = {
    "type": "object",
    "properties": {"user": s(320, 1), "username": s(320, 1), "email": s(320, 1),
                   "password": {"anyOf": [PASSWORD, DIGEST]}, "resume": TOKEN, "code": s(64),
                   "ldap": {"type": "boolean"}, "ldapPass": PASSWORD, "ldapOptions": FLAT_OBJECT},
    **EXTRA_KEYS,
}
LOGOUT_BODY = obj({"userId": ID, "authToken": TOKEN})

# DDP `login` param: one of three shapes.
DDP_RESUME = obj({"resume": TOKEN}, ("resume",))
DDP_PASSWORD = obj({
    "user": obj({"username": s(320, 1), "email": s(320, 1), "id": ID}, minProperties=1, maxProperties=1),
    "password": {"anyOf": [PASSWORD, DIGEST]},
}, ("user", "password"))
DDP_OTHER = {
    "type": "object",
    "properties": {"username": s(320, 1), "email": s(320, 1), "ldap": {"type": "boolean"}, "ldapPass": PASSWORD,
                   "ldapOptions": FLAT_OBJECT},
    "not": {"anyOf": [{"required": ["resume"]}, {"required": ["user"]}, {"required": ["password"]}]},
    **EXTRA_KEYS,
}
DDP_LOGIN_PARAMS = {"type": "array", "minItems": 1, "maxItems": 1,
                    "items": {"anyOf": [DDP_RESUME, DDP_PASSWORD, DDP_OTHER]}}
NO_PARAMS = {"type": "array", "maxItems": 0}

# -- users.* -----------------------------------------------------------------------------------------------
ROLES = {"type": "array", "items": s(64, 1), "maxItems": 50}
CUSTOM_FIELDS = FLAT_OBJECT
SELECTOR = {"userId": ID, "username": USERNAME, "user": USERNAME}
USER_QUERY = obj({**SELECTOR, "fields": s(1000), "includeUserRooms": s(10), "importId": s(100)})
SELF_OR_USER_QUERY = obj(dict(SELECTOR))

CREATE_BODY = obj({
    "email": EMAIL, "name": NAME, "password": PASSWORD, "username": USERNAME, "active": {"type": "boolean"},
    "bio": s(2000), "nickname": s(120), "statusText": s(120), "roles": ROLES,
    "joinDefaultChannels": {"type": "boolean"}, "requirePasswordChange": {"type": "boolean"},
    "setRandomPassword": {"type": "boolean"}, "sendWelcomeEmail": {"type": "boolean"},
    "verified": {"type": "boolean"}, "customFields": CUSTOM_FIELDS,
    "settings": {"type": "object", "maxProperties": 10},
}, ("email", "name", "username"))
REGISTER_BODY = obj({"username": USERNAME, "email": EMAIL, "pass": PASSWORD, "name": NAME, "secret": s(256),
                     "reason": s(1000), "customFields": CUSTOM_FIELDS}, ("username", "email", "pass"))
UPDATE_DATA = obj({
    "email": EMAIL, "name": NAME, "password": PASSWORD, "username": USERNAME, "active": {"type": "boolean"},
    "roles": ROLES, "customFields": CUSTOM_FIELDS, "verified": {"type": "boolean"}, "nickname": s(120),
    "bio": s(2000), "statusText": s(120), "requirePasswordChange": {"type": "boolean"},
    "joinDefaultChannels": {"type": "boolean"}, "sendWelcomeEmail": {"type": "boolean"},
    "setRandomPassword": {"type": "boolean"},
})
UPDATE_BODY = obj({"userId": ID, "data": UPDATE_DATA, "confirmRelinquish": {"type": "boolean"}},
                  ("userId", "data"))
OWN_INFO_BODY = obj({
    "data": obj({"email": EMAIL, "name": NAME, "username": USERNAME, "nickname": s(120), "bio": s(2000),
                 "statusText": s(120), "newPassword": PASSWORD, "currentPassword": PASSWORD,
                 "realname": NAME}),
    "customFields": CUSTOM_FIELDS,
}, ("data",))
DELETE_BODY = obj({**SELECTOR, "confirmRelinquish": {"type": "boolean"}})
ACTIVE_BODY = obj({"userId": ID, "activeStatus": {"type": "boolean"}, "confirmRelinquish": {"type": "boolean"}},
                  ("userId", "activeStatus"))
STATUS = {"type": "string", "enum": ["online", "away", "busy", "offline"]}
SET_STATUS_BODY = obj({**SELECTOR, "status": STATUS, "message": s(120)})
TOKEN_SELECTOR_BODY = obj(dict(SELECTOR))
PAT_NAME = s(100, 1)
PAT_CREATE_BODY = obj({"tokenName": PAT_NAME, "bypassTwoFactor": {"type": "boolean"}}, ("tokenName",))
PAT_NAME_BODY = obj({"tokenName": PAT_NAME}, ("tokenName",))
