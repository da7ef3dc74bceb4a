"""Rooms plugin: hook adapter, broker actions, and the message-counter listener."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from core.context import Context
from core.errors import MeteorError
from plugins.rooms import methods as ddp_methods
from plugins.rooms import routes as rest_routes
from plugins.rooms import team_links
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
                   "create": self._create, "remove_user": self._remove_user, "delete": self._delete,
                   "save_settings": self._save_settings, "set_team": self._set_team,
                   "set_team_default": self._set_team_default}
        for name, action in actions.items():
            await api.broker.register(f"rooms.{name}", action)
        # Each message is counted once, by one of the processes running this service.
        await api.broker.subscribe(MESSAGE_EVENT, self.service.counters.on_message_event, group="rooms.counters")
        await api.broker.subscribe("user.nameChanged", self.service.people.on_name_changed)
        await api.broker.subscribe("user.deleted", self.service.people.on_user_deleted)

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

    # -- actions the teams service uses (it has decided on permissions unless an actor is named) ----------
    async def _remove_user(self, rid: str, user_id: str, remover_id: str | None = None) -> bool:
        """Rocket.Chat's `removeUserFromRoom`: False when the user was not a member. `remover_id` makes it a
        removal by that user (`ru` system message) instead of a leave (`ul`)."""
        store = self.service.store
        room = await store.room(rid)
        if room is None:
            raise MeteorError("error-invalid-room", "Invalid room", {"method": "removeUserFromRoom"})
        user = await store.user(user_id)
        if user is None or await store.subscription(rid, user_id) is None:
            return False
        remover = await store.user(remover_id) if remover_id else None
        await self.service.membership.remove_user(room, user, remover, Context.internal(remover or user))
        return True

    async def _delete(self, rid: str, actor_id: str | None = None) -> bool:
        """Rocket.Chat's `eraseRoom`; with `actor_id` that user's `delete-<t>` permission is checked.
        False when there is no such room."""
        store = self.service.store
        room = await store.room(rid)
        if room is None:
            return False
        actor = await store.user(actor_id) if actor_id else None
        if actor_id and actor is None:
            raise MeteorError("error-invalid-user", "Invalid user", {"method": "eraseRoom"})
        await self.service.lifecycle.delete(actor, room, Context.internal(actor))
        return True

    async def _save_settings(self, actor_id: str, rid: str, settings: dict) -> dict:
        """`saveRoomSettings` as `actor_id`, with every check the DDP method makes."""
        store = self.service.store
        actor = await store.user(actor_id)
        if actor is None or not actor.get("username"):
            raise MeteorError("error-invalid-user", "Invalid user", {"method": "saveRoomSettings"})
        room = await store.room(rid)
        if room is None:
            raise MeteorError("error-invalid-room", "Invalid room", {"method": "saveRoomSettings"})
        return await self.service.settings.save(actor, room, dict(settings))

    async def _set_team(self, rids: list[str], team_id: str | None, main: bool = False) -> list[dict]:
        """Set (or, with `team_id` None, clear) `teamId`/`teamMain` on rooms and their subscriptions."""
        return await team_links.set_team(self.service.store, list(rids or []), team_id, main)

    async def _set_team_default(self, rid: str, is_default: bool) -> dict | None:
        return await team_links.set_team_default(self.service.store, rid, is_default)
