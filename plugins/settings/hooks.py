"""Settings plugin: hook adapter."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from plugins.settings import methods as ddp_methods
from plugins.settings import routes as rest_routes
from plugins.settings.models import Setting
from plugins.settings.service import SettingsService

PERMISSIONS = [
    {"_id": "view-privileged-setting", "roles": ["admin"]},
    {"_id": "edit-privileged-setting", "roles": ["admin"]},
    {"_id": "manage-selected-settings", "roles": ["admin"]},
]


class Plugin:
    name = "settings"

    def __init__(self) -> None:
        self.service = SettingsService()

    @hookimpl
    def register_document_models(self) -> list[type]:
        return [Setting]

    @hookimpl
    def register_permissions(self) -> list[dict]:
        return PERMISSIONS

    @hookimpl
    def register_routes(self) -> list:
        return rest_routes.routes(self.service)

    @hookimpl
    def register_ddp_methods(self) -> list:
        return ddp_methods.methods(self.service)

    @hookimpl(tryfirst=True)
    async def orbitchat_startup(self, api: Any) -> None:
        await self.service.start(api)
        await api.broker.register("settings.get", self._get)
        await api.broker.register("settings.set", self._set)

    async def _get(self, setting_id: str) -> Any:
        return self.service.api.settings.get(setting_id)

    async def _set(self, setting_id: str, value: Any) -> dict:
        return await self.service.set(setting_id, value)
