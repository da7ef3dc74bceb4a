"""Rooms plugin: hook adapter, broker actions, and the message-counter listener."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from core.context import Context
from core.errors import MeteorError
from plugins.rooms import methods as ddp_methods
from plugins.rooms import routes as rest_routes
from plugins.rooms.constants import MESSAGE_EVENT, PERMISSIONS, SETTINGS
from plugins.rooms.models import Room, Subscription
from plugins.rooms.service import RoomsService


class Plugin:
    name = "rooms"

    def __init__(self) -> None:
        self.service = RoomsService()

    @hookimpl
    def register_document_models(self) -> list[type]:
        return [Room, Subscription]

    @hookimpl
    def register_permissions(self) -> list[dict]:
        return [dict(p) for p in PERMISSIONS]

    @hookimpl
    def register_settings(self) -> list[dict]:
        return [dict(s) for s in SETTINGS]

    @hookimpl
    def register_routes(self) -> list:
        return rest_routes.routes(self.service)

    @hookimpl
    def register_ddp_methods(self) -> list:
        return ddp_methods.methods(self.service)

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        self.service.start(api)
        actions = {"get": self._get, "get_subscription": self._get_subscription, "add_user": self._add_user,
                   "create": self._create}
        for name, action in actions.items():
            await api.broker.register(f"rooms.{name}", action)
        await api.broker.subscribe(MESSAGE_EVENT, self.service.counters.on_message_event)

    @hookimpl
    async def orbitchat_shutdown(self) -> None:
        await self.service.store.drain()

    # -- broker actions (other services; no caller permission checks beyond the documented ones) -----
    async def _get(self, rid: str) -> dict | None:
        return await self.service.store.room(rid)

    async def _get_subscription(self, rid: str, user_id: str) -> dict | None:
        return await self.service.store.subscription(rid, user_id)

    async def _add_user(self, rid: str, user_id: str, inviter_id: str | None = None) -> bool:
        store = self.service.store
        room = await store.room(rid)
        if room is None:
            raise MeteorError("error-invalid-room", "Invalid room", {"method": "addUserToRoom"})
        user = await store.user(user_id)
        if user is None or not user.get("username"):
            raise MeteorError("error-invalid-user", "Invalid user", {"method": "addUserToRoom"})
        inviter = await store.user(inviter_id) if inviter_id else None
        return await self.service.membership.add_user(room, user, inviter, Context.internal(inviter or user))

    async def _create(self, owner_id: str, type: str, name: str | None, members: list[str] | None = None,
                      read_only: bool = False, extra: dict | None = None) -> dict:
        """Rocket.Chat's `Room.create`: the owner needs `create-<type>`. For `d`, members are usernames."""
        store = self.service.store
        owner = await store.user(owner_id)
        if owner is None or not owner.get("username"):
            raise MeteorError("error-invalid-user", "Invalid user", {"method": "createRoom"})
        if type not in ("c", "p", "d") or not await store.can(owner, f"create-{type}"):
            raise MeteorError("error-not-allowed", "Not allowed", {"method": "createRoom"})
        ctx = Context.internal(owner)
        if type == "d":
            return await self.service.creation.create_direct(owner, list(members or []), ctx=ctx)
        return await self.service.creation.create(owner, type, name or "", list(members or []),
                                                  read_only=read_only, extra=extra, ctx=ctx)
