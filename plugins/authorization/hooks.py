"""Authorization plugin: hook adapter."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from plugins.authorization import methods as ddp_methods
from plugins.authorization import routes as rest_routes
from plugins.authorization.models import Permission, Role
from plugins.authorization.roles import RoleService
from plugins.authorization.service import AuthorizationService


class Plugin:
    name = "authorization"

    def __init__(self) -> None:
        self.service = AuthorizationService()
        self.roles = RoleService(self.service)

    @hookimpl
    def register_document_models(self) -> list[type]:
        return [Role, Permission]

    @hookimpl
    def register_routes(self) -> list:
        return rest_routes.routes(self.service, self.roles)

    @hookimpl
    def register_ddp_methods(self) -> list:
        return ddp_methods.methods(self.service, self.roles)

    @hookimpl(tryfirst=True)
    async def orbitchat_startup(self, api: Any) -> None:
        service = self.service
        await service.start(api)
        actions = {"has_permission": service.has_permission, "has_all": service.has_all,
                   "has_at_least_one": service.has_at_least_one, "can_access_room": service.can_access_room,
                   "add_user_roles": self._add_user_roles, "remove_user_roles": self._remove_user_roles}
        for name, action in actions.items():
            await api.broker.register(f"authorization.{name}", action)

    @hookimpl(trylast=True)
    async def provide_permission_check(self, user: dict, permission: str, rid: str | None) -> bool:
        # trylast: a third-party plugin or app may answer first (e.g. to grant by an external policy).
        return await self.service.check(user, [permission], rid, need_all=True)

    async def _add_user_roles(self, user_id: str, roles: list[str], scope: str | None = None) -> bool:
        return await self.roles.change_user_roles(user_id, roles, scope, add=True)

    async def _remove_user_roles(self, user_id: str, roles: list[str], scope: str | None = None) -> bool:
        return await self.roles.change_user_roles(user_id, roles, scope, add=False)
