"""DDP methods of the rooms service, with Rocket.Chat's names, params and errors."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core.ddp import DdpMethod, MethodInvocation
from core.errors import MeteorError
from plugins.rooms import schemas as s
from plugins.rooms.service import RoomsService
from plugins.rooms.store import public_room

ROLE_METHODS = {f"{verb}Room{role.title()}": (role, verb == "add")
                for role in ("owner", "moderator", "leader") for verb in ("add", "remove")}


def not_allowed(method: str) -> MeteorError:
    return MeteorError("error-not-allowed", "Not allowed", {"method": method})


def since_of(args: tuple) -> datetime | None:
    return args[0] if args and isinstance(args[0], datetime) else None


class RoomMethods:
    def __init__(self, service: RoomsService) -> None:
        self.svc = service

    @property
    def store(self) -> Any:
        return self.svc.store

    async def _create(self, inv: MethodInvocation, kind: str, name: str, members: list | None = None,
                      read_only: bool | None = None, custom_fields: dict | None = None,
                      extra: dict | None = None) -> dict[str, Any]:
        method = "createChannel" if kind == "c" else "createPrivateGroup"
        user = await self.svc.user_doc(inv.ctx.user)
        if not await self.store.can(user, f"create-{kind}"):
            raise not_allowed(method)
        extra = {k: v for k, v in (extra or {}).items() if k not in ("teamId", "federated")}
        room = await self.svc.creation.create(user, kind, name, list(members or []), read_only=bool(read_only),
                                              extra=extra, custom_fields=custom_fields, ctx=inv.ctx)
        return {**public_room(room), "rid": room["_id"]}

    async def create_channel(self, inv: MethodInvocation, *args: Any) -> dict[str, Any]:
        return await self._create(inv, "c", *args)

    async def create_group(self, inv: MethodInvocation, *args: Any) -> dict[str, Any]:
        return await self._create(inv, "p", *args)

    async def create_direct(self, inv: MethodInvocation, *usernames: str) -> dict[str, Any]:
        me = await self.svc.user_doc(inv.ctx.user)
        room = await self.svc.creation.create_direct(me, list(usernames), ctx=inv.ctx)
        return {**public_room(room), "t": "d", "rid": room["rid"]}

    async def join(self, inv: MethodInvocation, rid: str, code: str | None = None) -> bool | None:
        room = await self.svc.room_for_method(rid, "joinRoom")
        joined = await self.svc.membership.join(room, await self.svc.user_doc(inv.ctx.user), code, inv.ctx)
        return True if joined else None

    async def leave(self, inv: MethodInvocation, rid: str) -> None:
        room = await self.svc.room_for_method(rid, "leaveRoom")
        await self.svc.membership.leave(room, await self.svc.user_doc(inv.ctx.user), inv.ctx)

    async def rooms_get(self, inv: MethodInvocation, *args: Any) -> Any:
        return await self.svc.reads.rooms(inv.ctx.user_id, since_of(args))

    async def subscriptions_get(self, inv: MethodInvocation, *args: Any) -> Any:
        return await self.svc.reads.subscriptions(inv.ctx.user_id, since_of(args))

    async def read_messages(self, inv: MethodInvocation, rid: str, read_threads: bool | None = None) -> None:
        room = await self.store.room(rid)
        if room is None:
            raise MeteorError("error-room-does-not-exist", "This room does not exist", {"method": "readMessages"})
        if not await self.store.can_access(room, inv.ctx.user):
            raise not_allowed("readMessages")
        await self.svc.reads.mark_read(inv.ctx.user, room, bool(read_threads))

    async def unread_messages(self, inv: MethodInvocation, first_unread: dict | None = None,
                              rid: str | None = None) -> None:
        if first_unread:
            await self.svc.reads.mark_unread(inv.ctx.user, message_id=first_unread["_id"])
            return
        room = await self.svc.room_for_method(rid or "", "unreadMessages")
        await self.svc.reads.mark_unread(inv.ctx.user, room=room)

    async def save_settings(self, inv: MethodInvocation, rid: str, setting: Any, value: Any = None) -> dict:
        settings = dict(setting) if isinstance(setting, dict) else {setting: value}
        room = await self.svc.room_for_method(rid, "saveRoomSettings")
        return await self.svc.settings.save(await self.svc.user_doc(inv.ctx.user), room, settings)

    async def _accessible(self, inv: MethodInvocation, rid: str, method: str) -> dict[str, Any]:
        room = await self.store.room(rid)
        if room is None or not await self.store.can_access(room, inv.ctx.user):
            raise not_allowed(method)
        return room

    async def room_roles(self, inv: MethodInvocation, rid: str) -> list[dict[str, Any]]:
        room = await self._accessible(inv, rid, "getRoomRoles")
        return await self.svc.membership.room_roles(room["_id"])

    async def room_by_id(self, inv: MethodInvocation, rid: str) -> dict[str, Any]:
        return public_room(await self._accessible(inv, rid, "getRoomById"))

    async def room_by_type_and_name(self, inv: MethodInvocation, kind: str, name: str) -> dict[str, Any]:
        method = "getRoomByTypeAndName"
        if kind == "d":
            try:
                room = await self.svc.find_direct({"roomId": name}, inv.ctx.user)
            except MeteorError:
                raise not_allowed(method) from None
        else:
            rooms = self.store.rooms   # by name, else by id: two indexed reads (an `$or` would scan)
            room = await rooms.find_one({"t": kind, "name": name}) or await rooms.find_one({"t": kind, "_id": name})
            if room is None or not await self.store.can_access(room, inv.ctx.user):
                raise not_allowed(method)
        return public_room(room)

    async def hide(self, inv: MethodInvocation, rid: str) -> int:
        return await self.svc.lifecycle.set_open(inv.ctx.user, rid, False)

    async def open(self, inv: MethodInvocation, rid: str) -> int:
        return await self.svc.lifecycle.set_open(inv.ctx.user, rid, True)

    async def favorite(self, inv: MethodInvocation, rid: str, fav: bool) -> int:
        return await self.svc.lifecycle.favorite(inv.ctx.user, rid, fav)

    # -- moderation ---------------------------------------------------------------------------------------
    async def add_users(self, inv: MethodInvocation, data: dict[str, Any]) -> bool:
        room = await self.svc.room_for_method(data["rid"], "addUsersToRoom")
        return await self.svc.membership.add_users(await self.svc.user_doc(inv.ctx.user), room,
                                                   list(data["users"]), inv.ctx)

    async def remove_user(self, inv: MethodInvocation, data: dict[str, Any]) -> bool:
        room = await self.svc.room_for_method(data["rid"], "removeUserFromRoom")
        target = await self.store.user_by_username(data["username"])
        if target is None:
            raise MeteorError("error-invalid-user", "Invalid user", {"method": "removeUserFromRoom"})
        await self.svc.membership.kick(await self.svc.user_doc(inv.ctx.user), room, target, inv.ctx)
        return True

    def role_method(self, name: str) -> Any:
        role, add = ROLE_METHODS[name]

        async def handler(inv: MethodInvocation, rid: str, uid: str) -> bool:
            room = await self.svc.room_for_method(rid, name)
            await self.svc.membership.set_role(await self.svc.user_doc(inv.ctx.user), room, uid, role, add)
            return True
        return handler

    def lifecycle_method(self, name: str) -> Any:
        async def handler(inv: MethodInvocation, rid: str) -> bool:
            room = await self.svc.room_for_method(rid, name)
            user = await self.svc.user_doc(inv.ctx.user)
            if name == "archiveRoom":
                await self.svc.lifecycle.archive(user, room)
            elif name == "unarchiveRoom":
                await self.svc.lifecycle.unarchive(user, room)
            else:
                await self.svc.lifecycle.delete(user, room, inv.ctx)
            return True
        return handler


def methods(service: RoomsService) -> list[DdpMethod]:
    m = RoomMethods(service)
    users_data = s.obj({"rid": s.ID, "users": s.USERNAMES}, ["rid", "users"])
    remove_data = s.obj({"rid": s.ID, "username": s.USERNAME}, ["rid", "username"])
    out = [
        DdpMethod("createChannel", m.create_channel, params=s.CREATE_PARAMS),
        DdpMethod("createPrivateGroup", m.create_group, params=s.CREATE_PARAMS),
        DdpMethod("createDirectMessage", m.create_direct, params=s.USERNAMES_PARAMS, rate_limit=(10, 60000)),
        DdpMethod("joinRoom", m.join, params=s.JOIN_PARAMS),
        DdpMethod("leaveRoom", m.leave, params=s.RID_PARAMS),
        DdpMethod("rooms/get", m.rooms_get, params=s.SINCE_PARAMS),
        DdpMethod("subscriptions/get", m.subscriptions_get, params=s.SINCE_PARAMS),
        DdpMethod("readMessages", m.read_messages, params=s.READ_PARAMS),
        DdpMethod("unreadMessages", m.unread_messages,
                  params=s.params({"anyOf": [s.obj({"_id": s.ID}, ["_id"]), {"type": "null"}]},
                                  {"type": ["string", "null"], "maxLength": 100})),
        DdpMethod("saveRoomSettings", m.save_settings, params=s.SAVE_SETTINGS_PARAMS),
        DdpMethod("getRoomRoles", m.room_roles, params=s.RID_PARAMS),
        DdpMethod("getRoomById", m.room_by_id, params=s.RID_PARAMS),
        DdpMethod("getRoomByTypeAndName", m.room_by_type_and_name, params=s.TYPE_NAME_PARAMS),
        DdpMethod("hideRoom", m.hide, params=s.RID_PARAMS),
        DdpMethod("openRoom", m.open, params=s.RID_PARAMS),
        DdpMethod("toggleFavorite", m.favorite, params=s.FAVORITE_PARAMS),
        DdpMethod("addUsersToRoom", m.add_users, params=s.params(users_data, required=1)),
        DdpMethod("removeUserFromRoom", m.remove_user, params=s.params(remove_data, required=1)),
    ]
    out += [DdpMethod(name, m.role_method(name), params=s.params(s.ID, s.ID, required=2)) for name in ROLE_METHODS]
    out += [DdpMethod(name, m.lifecycle_method(name), params=s.RID_PARAMS)
            for name in ("archiveRoom", "unarchiveRoom", "eraseRoom")]
    return out
