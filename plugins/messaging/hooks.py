"""Messaging plugin: hook adapter."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from core.context import Context
from core.errors import MeteorError
from plugins.messaging import listing_routes, room_routes
from plugins.messaging import methods as ddp_methods
from plugins.messaging import routes as chat_routes
from plugins.messaging.constants import PERMISSIONS, SETTINGS
from plugins.messaging.models import Message
from plugins.messaging.service import MessagingService


class Plugin:
    name = "messaging"

    def __init__(self) -> None:
        self.service = MessagingService()

    @hookimpl
    def register_document_models(self) -> list[type]:
        return [Message]

    @hookimpl
    def register_settings(self) -> list[dict]:
        return [dict(s) for s in SETTINGS]

    @hookimpl
    def register_permissions(self) -> list[dict]:
        return [dict(p) for p in PERMISSIONS]

    @hookimpl
    def register_routes(self) -> list:
        svc = self.service
        return chat_routes.routes(svc) + listing_routes.routes(svc) + room_routes.routes(svc)

    @hookimpl
    def register_ddp_methods(self) -> list:
        return ddp_methods.methods(self.service)

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        await self.service.start(api)
        await api.broker.register("messaging.send", self._send)
        await api.broker.register("messaging.update", self._update)
        await api.broker.register("messaging.system_message", self._system_message)
        await api.broker.register("messaging.get", self.service.get_message)
        await api.broker.register("messaging.delete_room_messages", self._delete_room_messages)

    async def _send(self, user_id: str, message: dict) -> dict:
        """Send as `user_id` through the whole pipeline (hooks included); alias/avatar need no permission."""
        user = await self.service.users.find_one({"_id": user_id}, {"services": 0})
        if user is None:
            raise ValueError(f"unknown user {user_id!r}")
        return await self.service.pipeline.send(Context.internal(user), message, trusted=True)

    async def _update(self, user_id: str, message_id: str, fields: dict) -> dict:
        """Edit as `user_id` (apps' modifier): `msg`, `customFields`, `attachments`, `blocks`; hooks included."""
        user = await self.service.users.find_one({"_id": user_id}, {"services": 0})
        previous = await self.service.get_message(message_id)
        if user is None or previous is None:
            raise MeteorError("error-message-not-found", "Message not found")
        fields = fields if isinstance(fields, dict) else {}
        return await self.service.pipeline.update(Context.internal(user), previous, fields.get("msg"),
                                                  fields.get("customFields"), content=fields)

    async def _delete_room_messages(self, rid: str) -> int:
        """A room was erased (rooms asks): its messages go with it."""
        if not isinstance(rid, str) or not rid:
            return 0
        result = await self.service.messages.delete_many({"rid": rid})
        return result.deleted_count

    async def _system_message(self, rid: str, t: str, user: dict, msg: str = "", extra: dict | None = None) -> dict:
        return await self.service.pipeline.system_message(rid, t, user, msg, extra)
