"""Accounts plugin: hook adapter."""
from __future__ import annotations

import sys
from typing import Any

from core import hookimpl
from core.context import Context
from plugins.accounts.login import LoginFlow
from plugins.accounts.methods import AuthMethods
from plugins.accounts.models import User
from plugins.accounts.routes import AuthRoutes
from plugins.accounts.routes_tokens import StatusTokenRoutes
from plugins.accounts.routes_users import PERMISSIONS, UserRoutes
from plugins.accounts.service import AccountsService
from plugins.accounts.settings import SETTINGS
from plugins.accounts.users import UserStore


class Plugin:
    name = "accounts"

    def __init__(self) -> None:
        self.service = AccountsService()
        self.flow = LoginFlow(self.service)
        self.users = UserStore(self.service)

    @hookimpl
    def register_document_models(self) -> list[type]:
        return [User]

    @hookimpl
    def register_settings(self) -> list[dict]:
        return [dict(s) for s in SETTINGS]

    @hookimpl
    def register_routes(self) -> list:
        return (AuthRoutes(self.service, self.flow).routes() + UserRoutes(self.service, self.users).routes()
                + StatusTokenRoutes(self.service, self.users).routes())

    @hookimpl
    def register_permissions(self) -> list[dict]:
        return [dict(p) for p in PERMISSIONS]

    @hookimpl
    def register_ddp_methods(self) -> list:
        return AuthMethods(self.flow).methods()

    @hookimpl
    async def provide_user_by_token(self, user_id: str, hashed_token: str) -> dict | None:
        return await self.service.user_by_token(user_id, hashed_token)

    async def _create_user(self, data: dict, user_id: str | None = None) -> dict:
        """For services that own a user (an app's bot): no password, no creation hooks."""
        return await self.users.create(data, Context.internal(), user_id=user_id, check_hooks=False)

    async def _delete_user(self, user_id: str) -> bool:
        user = await self.service.raw(user_id)
        if user is None:
            return False
        await self.users.delete(user)
        return True

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        await self.service.start(api)
        svc = self.service
        await api.broker.register("accounts.get_user", svc.get_user)
        await api.broker.register("accounts.get_user_by_username", svc.find_by_username)
        await api.broker.register("accounts.get_users", svc.get_users)
        await api.broker.register("accounts.create_user", self._create_user)
        await api.broker.register("accounts.delete_user", self._delete_user)
        await self.users.ensure_rocket_cat()
        await self.users.ensure_admin(api.env, sys.stdout)
