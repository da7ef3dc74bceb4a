"""REST: roles.list, roles.sync, roles.create, roles.update, roles.delete, roles.addUserToRole,
roles.removeUserFromRole, roles.getUsersInRole, permissions.listAll, permissions.update."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.errors import ApiError, Forbidden
from core.rest import RestRequest, Route
from plugins.authorization.roles import SCOPES, RoleService
from plugins.authorization.service import AuthorizationService

ADMIN = "access-permissions"


def text(n: int = 100) -> dict:
    return {"type": "string", "minLength": 1, "maxLength": n}


ROLE_REF = {"roleId": text(), "roleName": text(), "username": text(120), "roomId": text(), "scope": text()}
USER_ROLE_BODY = {"type": "object", "properties": ROLE_REF, "required": ["username"],
                  "additionalProperties": False}
ROLE_FIELDS = {"name": text(), "description": {"type": "string", "maxLength": 1000},
               "scope": {"type": "string", "enum": list(SCOPES)}, "mandatory2fa": {"type": "boolean"}}
CREATE_BODY = {"type": "object", "properties": ROLE_FIELDS, "required": ["name"], "additionalProperties": False}
UPDATE_BODY = {"type": "object", "properties": {"roleId": text(), **ROLE_FIELDS}, "required": ["roleId"],
               "additionalProperties": False}
DELETE_BODY = {"type": "object", "properties": {"roleId": text()}, "required": ["roleId"],
               "additionalProperties": False}
PERMISSIONS_BODY = {
    "type": "object", "required": ["permissions"], "additionalProperties": False,
    "properties": {"permissions": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {
        "type": "object", "required": ["_id", "roles"], "additionalProperties": False,
        "properties": {"_id": text(), "roles": {"type": "array", "maxItems": 200, "items": text()}}}}},
}
SINCE_QUERY = {"type": "object", "properties": {"updatedSince": text(40)}, "additionalProperties": False}
SYNC_QUERY = {**SINCE_QUERY, "required": ["updatedSince"]}
IN_ROLE_QUERY = {"type": "object", "properties": {"role": text(), "roomId": text()}, "required": ["role"],
                 "additionalProperties": False}


def parse_since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError('The "updatedSince" query parameter must be a valid date.',
                       "error-updatedSince-param-invalid") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def routes(authz: AuthorizationService, roles: RoleService) -> list[Route]:
    async def list_roles(req: RestRequest) -> dict[str, Any]:
        return {"roles": await roles.list()}

    async def sync_roles(req: RestRequest) -> dict[str, Any]:
        since = parse_since(req.query["updatedSince"])
        return {"roles": {"update": await roles.list(since),
                          "remove": await authz.removed_since("rocketchat_roles", since)}}

    async def create_role(req: RestRequest) -> dict[str, Any]:
        b = req.body
        return {"role": await roles.create(b["name"], b.get("scope", "Users"), b.get("description", ""),
                                           b.get("mandatory2fa", False))}

    async def update_role(req: RestRequest) -> dict[str, Any]:
        changes = {k: v for k, v in req.body.items() if k != "roleId"}
        return {"role": await roles.update(req.body["roleId"], changes)}

    async def delete_role(req: RestRequest) -> dict[str, Any]:
        await roles.delete(req.body["roleId"])
        return {}

    async def user_role(req: RestRequest, add: bool) -> dict[str, Any]:
        b = req.body
        if not b.get("roleId") and not b.get("roleName"):
            raise ApiError("The role properties are invalid.", "error-invalid-role-properties")
        role = await roles.get(b["roleId"]) if b.get("roleId") else await roles.get(name=b["roleName"])
        rid = b.get("roomId") or b.get("scope")
        return {"role": await roles.assign(req.user, role, b["username"], rid, add)}

    async def add_user(req: RestRequest) -> dict[str, Any]:
        return await user_role(req, True)

    async def remove_user(req: RestRequest) -> dict[str, Any]:
        return await user_role(req, False)

    async def users_in_role(req: RestRequest) -> dict[str, Any]:
        rid = req.query.get("roomId")
        if rid and not await authz.check(req.user, ["view-other-user-channels"], None, True):
            raise Forbidden()
        role = await roles.get(name=req.query["role"])
        if role is None:
            raise ApiError("This role does not exist", "error-invalid-roleId")
        users, total = await roles.users_in_role(role, rid, req.page.offset, req.page.count)
        return {"users": users, "total": total}

    async def list_permissions(req: RestRequest) -> dict[str, Any]:
        since = parse_since(req.query.get("updatedSince"))
        remove = await authz.removed_since("rocketchat_permissions", since) if since else []
        return {"update": await authz.list_permissions(since), "remove": remove}

    async def update_permissions(req: RestRequest) -> dict[str, Any]:
        changes = [(p["_id"], p["roles"]) for p in req.body["permissions"]]
        await authz.set_permission_roles(changes)
        return {"permissions": await authz.list_permissions()}

    return [
        Route("GET", "roles.list", list_roles),
        Route("GET", "roles.sync", sync_roles, query=SYNC_QUERY),
        Route("POST", "roles.create", create_role, permission=ADMIN, body=CREATE_BODY),
        Route("POST", "roles.update", update_role, permission=ADMIN, body=UPDATE_BODY),
        Route("POST", "roles.delete", delete_role, permission=ADMIN, body=DELETE_BODY),
        Route("POST", "roles.addUserToRole", add_user, permission=ADMIN, body=USER_ROLE_BODY),
        Route("POST", "roles.removeUserFromRole", remove_user, permission=ADMIN, body=USER_ROLE_BODY),
        Route("GET", "roles.getUsersInRole", users_in_role, permission=ADMIN, query=IN_ROLE_QUERY,
              paginated=True),
        Route("GET", "permissions.listAll", list_permissions, query=SINCE_QUERY),
        Route("POST", "permissions.update", update_permissions, permission=ADMIN, body=PERMISSIONS_BODY),
    ]
