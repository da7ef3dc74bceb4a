"""REST: `channels.*` and `groups.*` (the same operations on public channels and private groups).

History, messages and files are the messaging service's routes."""
from __future__ import annotations

from typing import Any

from core.errors import ApiError, Forbidden
from core.rest import RestRequest
from plugins.rooms.routes_common import paged, user_from_params, usernames_from_params
from plugins.rooms.service import RoomsService
from plugins.rooms.store import public_room

SORTS = ("name", "fname", "ts", "_updatedAt", "msgs", "usersCount", "lm", "_id")
FILTERS = ("_id", "name", "fname", "archived", "ro", "default", "featured", "broadcast", "teamMain", "teamId")


class RoomRoutes:
    """One instance per room type: `c` under `channels.`, `p` under `groups.`."""

    def __init__(self, service: RoomsService, kind: str) -> None:
        self.svc = service
        self.kind = kind
        self.prefix = "channels" if kind == "c" else "groups"
        self.key = "channel" if kind == "c" else "group"
        self.word = "channel" if kind == "c" else "private group"

    @property
    def store(self) -> Any:
        return self.svc.store

    async def find(self, req: RestRequest, params: dict[str, Any] | None = None, archived_ok: bool = False) -> dict:
        return await self.svc.find_room(req.body if params is None else params, req.user, self.kind,
                                        check_archived=not archived_ok)

    async def room_reply(self, rid: str) -> dict[str, Any]:
        return {self.key: public_room(await self.store.room(rid))}

    # -- create, info, lists ----------------------------------------------------------------------------
    async def create(self, req: RestRequest) -> dict[str, Any]:
        user = await self.svc.user_doc(req.user)
        if not await self.store.can(user, f"create-{self.kind}"):
            raise Forbidden()
        body = req.body
        if not body["name"].strip():
            raise ApiError('Param "name" is required')
        extra = {k: v for k, v in (body.get("extraData") or {}).items() if k not in ("teamId", "federated")}
        room = await self.svc.creation.create(user, self.kind, body["name"], list(body.get("members") or []),
                                              read_only=bool(body.get("readOnly")),
                                              exclude_self=bool(body.get("excludeSelf")), extra=extra,
                                              custom_fields=body.get("customFields"), ctx=req.ctx)
        return {self.key: public_room(room)}

    async def info(self, req: RestRequest) -> dict[str, Any]:
        return {self.key: public_room(await self.find(req, req.query, archived_ok=True))}

    async def list(self, req: RestRequest) -> dict[str, Any]:
        return await self._list(req, joined_only=self.kind != "c")

    async def list_joined(self, req: RestRequest) -> dict[str, Any]:
        return await self._list(req, joined_only=True)

    async def list_all(self, req: RestRequest) -> dict[str, Any]:
        """groups.listAll (view-room-administration): every private group."""
        page = req.page
        items, total = await self.svc.queries.page(self.store.rooms, {**page.filter, "t": self.kind}, page,
                                                   [("name", 1)])
        return paged(f"{self.key}s", [page.project(public_room(r)) for r in items], page, total)

    async def _list(self, req: RestRequest, joined_only: bool) -> dict[str, Any]:
        page = req.page
        result = await self.svc.queries.list_rooms(req.user, self.kind, page, joined_only)
        return paged(f"{self.key}s", result["items"], page, result["total"])

    async def members(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req, req.query, archived_ok=True)
        if room.get("broadcast") and not await self.store.can(req.user, "view-broadcast-member-list", room["_id"]):
            raise Forbidden()
        result = await self.svc.queries.members(room, req.page, req.query.get("filter"), req.query.get("status"))
        return paged("members", result["members"], req.page, result["total"])

    async def roles(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req, req.query)
        return {"roles": await self.svc.membership.room_roles(room["_id"])}

    async def moderators(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req, req.query)
        roles = await self.svc.membership.room_roles(room["_id"])
        return {"moderators": [r["u"] for r in roles if "moderator" in (r.get("roles") or ())]}

    async def counters(self, req: RestRequest) -> dict[str, Any]:
        admin = await self.store.can(req.user, "view-room-administration")
        uid = req.query.get("userId") or req.user["_id"]
        if uid != req.user["_id"] and not admin:
            raise Forbidden()
        room = await self.find(req, req.query)
        return await self.svc.queries.counters(room, uid, admin)

    # -- membership ---------------------------------------------------------------------------------------
    async def join(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req)
        await self.svc.membership.join(room, await self.svc.user_doc(req.user), req.body.get("joinCode"), req.ctx)
        return await self.room_reply(room["_id"])

    async def leave(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req)
        await self.svc.membership.leave(room, await self.svc.user_doc(req.user), req.ctx)
        return await self.room_reply(room["_id"]) if self.kind == "c" else {}

    async def invite(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req)
        usernames = await usernames_from_params(self.store, req.body)
        if not usernames:
            if self.kind == "c":
                raise ApiError("invalid-user-invite-list", "Cannot invite if no users are provided")
            raise ApiError("Cannot invite if no valid users are provided [error-empty-invite-list]",
                           "error-empty-invite-list")
        await self.svc.membership.add_users(await self.svc.user_doc(req.user), room, usernames, req.ctx)
        return await self.room_reply(room["_id"])

    async def kick(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req)
        target = await user_from_params(self.store, req.body)
        await self.svc.membership.kick(await self.svc.user_doc(req.user), room, target, req.ctx)
        return await self.room_reply(room["_id"]) if self.kind == "c" else {}

    def role_handler(self, role: str, add: bool) -> Any:
        async def handler(req: RestRequest) -> dict[str, Any]:
            room = await self.find(req)
            target = await user_from_params(self.store, req.body)
            await self.svc.membership.set_role(await self.svc.user_doc(req.user), room, target["_id"], role, add)
            return {}
        return handler

    async def set_open(self, req: RestRequest, is_open: bool) -> dict[str, Any]:
        room = await self.find(req, archived_ok=True)
        sub = await self.store.subscription(room["_id"], req.user["_id"])
        if sub is None:
            raise ApiError(f'The user/callee is not in the {self.word} "{room.get("name")}".')
        if bool(sub.get("open")) == is_open:
            state = "open" if is_open else "closed"
            raise ApiError(f"The {self.word}, {room.get('name')}, is already {state} to the sender")
        await self.svc.lifecycle.set_open(req.user, room["_id"], is_open)
        return {}

    async def open(self, req: RestRequest) -> dict[str, Any]:
        return await self.set_open(req, True)

    async def close(self, req: RestRequest) -> dict[str, Any]:
        return await self.set_open(req, False)

    # -- lifecycle ----------------------------------------------------------------------------------------
    async def delete(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req, archived_ok=True)
        await self.svc.lifecycle.delete(await self.svc.user_doc(req.user), room, req.ctx)
        return {}

    async def archive(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req)
        await self.svc.lifecycle.archive(await self.svc.user_doc(req.user), room)
        return {}

    async def unarchive(self, req: RestRequest) -> dict[str, Any]:
        room = await self.find(req, archived_ok=True)
        if not room.get("archived"):
            raise ApiError(f"The {self.word}, {room.get('name')}, is not archived")
        await self.svc.lifecycle.unarchive(await self.svc.user_doc(req.user), room)
        return {}

    # -- settings -----------------------------------------------------------------------------------------
    async def save(self, req: RestRequest, settings: dict[str, Any]) -> dict[str, Any]:
        room = await self.find(req)
        await self.svc.settings.save(await self.svc.user_doc(req.user), room, settings)
        return room

    def text_setter(self, param: str, field: str, setting: str, same_check: bool = True) -> Any:
        async def handler(req: RestRequest) -> dict[str, Any]:
            value = req.body.get(param) or ""
            room = await self.find(req)
            if same_check and (room.get(field) or "") == value:
                what = "purpose (description)" if param == "purpose" else param
                raise ApiError(f"The {self.word} {what} is the same as what it would be changed to.")
            await self.svc.settings.save(await self.svc.user_doc(req.user), room, {setting: value})
            return {param: value}
        return handler

    def value_setter(self, param: str, field: str, setting: str, label: str) -> Any:
        async def handler(req: RestRequest) -> dict[str, Any]:
            value = req.body[param]
            if param == "default" and isinstance(value, str):
                value = value.lower() in ("true", "1")
            room = await self.find(req)
            if field and room.get(field) == value:
                raise ApiError(f"The {self.word} {label} is the same as what it would be changed to.")
            await self.svc.settings.save(await self.svc.user_doc(req.user), room, {setting: value})
            return await self.room_reply(room["_id"])
        return handler

    async def rename(self, req: RestRequest) -> dict[str, Any]:
        name = req.body["name"].strip()
        if not name:
            raise ApiError('The bodyParam "name" is required')
        room = await self.find(req)
        if room.get("name") == name:
            raise ApiError(f"The {self.word} name is the same as what it would be renamed to.")
        await self.svc.settings.save(await self.svc.user_doc(req.user), room, {"roomName": name})
        return await self.room_reply(room["_id"])
