"""Presence plugin: hook adapter."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from plugins.presence import instance
from plugins.presence import methods as ddp_methods
from plugins.presence.maintenance import Maintenance
from plugins.presence.models import UsersSession
from plugins.presence.service import PresenceService

SETTINGS = [
    # Also read: Accounts_AllowInvisibleStatusOption, Accounts_AllowUserStatusMessageChange (declared by
    # accounts, which owns the Accounts group; both default to allowed when absent).
    {"_id": "Troubleshoot_Disable_Presence_Broadcast", "type": "boolean", "value": False,
     "group": "Troubleshoot"},
    # Seconds. Small values make tests fast (OVERWRITE_SETTING_<id> in the environment).
    {"_id": "Presence_Connection_Refresh_Interval", "type": "int", "value": 60, "group": "Presence",
     "hidden": True},
    {"_id": "Presence_Connection_Stale_Timeout", "type": "int", "value": 300, "group": "Presence",
     "hidden": True},
    {"_id": "Presence_Reaper_Interval", "type": "int", "value": 60, "group": "Presence", "hidden": True},
]


class Plugin:
    """Presence must run in every process that serves websockets: it records only its own sockets."""

    name = "presence"

    def __init__(self) -> None:
        self.service = PresenceService()
        self.maintenance = Maintenance(self.service)
        self._instance: instance.InstanceId | None = None
        self._unsubscribe: list = []

    @hookimpl
    def register_document_models(self) -> list[type]:
        return [UsersSession]

    @hookimpl
    def register_settings(self) -> list[dict]:
        return [dict(s) for s in SETTINGS]

    @hookimpl
    def register_ddp_methods(self) -> list:
        return ddp_methods.methods(self.service)

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        self._instance = instance.claim(api.data_dir, api.env)
        await self.service.start(api, self._instance.value)
        await api.broker.register("presence.set_status", self._set_status)
        await api.broker.register("presence.get_status", self.service.get_status)
        for event, listener in (("accounts.login", self.service.on_login),
                                ("accounts.logout", self.service.on_connection_gone),
                                ("socket.disconnected", self.service.on_connection_gone),
                                ("user.deleted", self.service.on_user_deleted)):
            self._unsubscribe.append(await api.broker.subscribe(event, listener))
        await self.maintenance.start()

    @hookimpl
    async def orbitchat_shutdown(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        try:
            await self.maintenance.stop()
        finally:
            if self._instance is not None:
                self._instance.release()

    async def _set_status(self, user_id: str, status: str | None, status_text: str | None = None) -> bool:
        """Broker action for REST `users.setStatus`: same rules and errors as the DDP methods."""
        return await self.service.set_status(user_id, status, status_text, "users.setStatus")
