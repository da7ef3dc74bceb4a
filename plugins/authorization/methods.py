"""DDP: permissions/get and the `authorization:*` methods of Rocket.Chat's permissions admin UI."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core.ddp import DdpMethod, MethodInvocation
from plugins.authorization.roles import RoleService
from plugins.authorization.service import AuthorizationService

ADMIN = "access-permissions"
NAME = {"type": "string", "minLength": 1, "maxLength": 100}
# An EJSON date arrives as a datetime, which no jsonschema type describes: the slot takes anything and the
# handler uses it only when it is a datetime.
UPDATED_SINCE = {"type": "array", "maxItems": 1}
USER_ROLE = {"type": "array", "minItems": 2, "maxItems": 3,
             "prefixItems": [NAME, {"type": "string", "minLength": 1, "maxLength": 120},
                             {"anyOf": [{"type": "null"}, NAME]}]}
PERMISSION_ROLE = {"type": "array", "minItems": 2, "maxItems": 2, "prefixItems": [NAME, NAME]}
ONE_NAME = {"type": "array", "minItems": 1, "maxItems": 1, "prefixItems": [NAME]}


def methods(authz: AuthorizationService, roles: RoleService) -> list[DdpMethod]:
    async def permissions_get(inv: MethodInvocation, *args: Any) -> Any:
        # EJSON dates arrive decoded; anything else in that slot means "everything".
        since = args[0] if args and isinstance(args[0], datetime) else None
        if since is None:
            return await authz.list_permissions()
        return {"update": await authz.list_permissions(since),
                "remove": await authz.removed_since("rocketchat_permissions", since)}

    async def add_user_to_role(inv: MethodInvocation, role_id: str, username: str, rid: str | None = None) -> bool:
        await roles.assign(inv.ctx.user, await roles.get(name=role_id), username, rid, True)
        return True

    async def remove_user_from_role(inv: MethodInvocation, role_id: str, username: str,
                                    rid: str | None = None) -> bool:
        await roles.assign(inv.ctx.user, await roles.get(name=role_id), username, rid, False)
        return True

    async def add_permission_to_role(inv: MethodInvocation, permission: str, role: str) -> None:
        await authz.change_permission_role(permission, role, add=True)

    async def remove_role_from_permission(inv: MethodInvocation, permission: str, role: str) -> None:
        await authz.change_permission_role(permission, role, add=False)

    async def delete_role(inv: MethodInvocation, role_id: str) -> bool:
        await roles.delete(role_id)
        return True

    return [
        DdpMethod("permissions/get", permissions_get, params=UPDATED_SINCE),
        DdpMethod("authorization:addUserToRole", add_user_to_role, permission=ADMIN, params=USER_ROLE),
        DdpMethod("authorization:removeUserFromRole", remove_user_from_role, permission=ADMIN, params=USER_ROLE),
        DdpMethod("authorization:addPermissionToRole", add_permission_to_role, permission=ADMIN,
                  params=PERMISSION_ROLE),
        DdpMethod("authorization:removeRoleFromPermission", remove_role_from_permission, permission=ADMIN,
                  params=PERMISSION_ROLE),
        DdpMethod("authorization:deleteRole", delete_role, permission=ADMIN, params=ONE_NAME),
    ]
