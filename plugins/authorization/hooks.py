"""Authorization plugin: hook adapter."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from plugins.authorization.models import Permission, Role
from plugins.authorization.service import AuthorizationService


class Plugin:
    name = "authorization"

    def __init__(self) -> None:
        self.service = AuthorizationService()

    @hookimpl
    def register_document_models(self) -> list[type]:
        return [Role, Permission]

    @hookimpl(tryfirst=True)
    async def orbitchat_startup(self, api: Any) -> None:
        service = self.service
        await service.start(api)
        for name, action in (("has_permission", service.has_permission), ("has_all", service.has_all),
                             ("has_at_least_one", service.has_at_least_one),
                             ("can_access_room", service.can_access_room)):
            await api.broker.register(f"authorization.{name}", action)

    @hookimpl(trylast=True)
    async def provide_permission_check(self, user: dict, permission: str, rid: str | None) -> bool:
        # trylast: a third-party plugin or app may answer first (e.g. to grant by an external policy).
        return await self.service.check(user, [permission], rid, need_all=True)
