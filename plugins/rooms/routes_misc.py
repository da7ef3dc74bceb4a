"""REST: `rooms.*` (get, info, leave, saveRoomSettings, delete, favorite, nameExists) and `subscriptions.*`."""
from __future__ import annotations

from typing import Any

from core.errors import ApiError, MeteorError
from core.rest import RestRequest
from plugins.rooms.routes_common import parse_since
from plugins.rooms.service import RoomsService
from plugins.rooms.store import public_room


class MiscRoutes:
    def __init__(self, service: RoomsService) -> None:
        self.svc = service

    @property
    def store(self) -> Any:
        return self.svc.store

    # -- rooms.* -------------------------------------------------------------------------------------
    async def rooms_get(self, req: RestRequest) -> dict[str, Any]:
        since = parse_since(req.query.get("updatedSince"))
        result = await self.svc.reads.rooms(req.user["_id"], since)
        if isinstance(result, list):
            return {"update": result, "remove": []}
        return result

    async def rooms_info(self, req: RestRequest) -> dict[str, Any]:
        room = await self.svc.find_room(req.query, req.user, None, check_archived=False)
        return {"room": req.page.project(public_room(room))}

    async def rooms_leave(self, req: RestRequest) -> dict[str, Any]:
        room = await self.svc.find_room(req.body, req.user, None, check_archived=False)
        await self.svc.membership.leave(room, await self.svc.user_doc(req.user), req.ctx)
        return {}

    async def rooms_delete(self, req: RestRequest) -> dict[str, Any]:
        room = await self.svc.find_room(req.body, req.user, None, check_archived=False)
        await self.svc.lifecycle.delete(await self.svc.user_doc(req.user), room, req.ctx)
        return {}

    async def rooms_favorite(self, req: RestRequest) -> dict[str, Any]:
        room = await self.svc.find_room(req.body, req.user, None, check_archived=False)
        await self.svc.lifecycle.favorite(req.user, room["_id"], req.body["favorite"])
        return {}

    async def save_room_settings(self, req: RestRequest) -> dict[str, Any]:
        settings = {k: v for k, v in req.body.items() if k != "rid"}
        room = await self.store.room(req.body["rid"])
        if room is None:
            raise MeteorError("error-invalid-room", "Invalid room", {"method": "saveRoomSettings"})
        result = await self.svc.settings.save(await self.svc.user_doc(req.user), room, settings)
        return {"rid": result["rid"]}

    async def name_exists(self, req: RestRequest) -> dict[str, Any]:
        return {"exists": await self.store.room_by_name(req.query["roomName"]) is not None}

    # -- subscriptions.* -----------------------------------------------------------------------------
    async def subscriptions_get(self, req: RestRequest) -> dict[str, Any]:
        since = parse_since(req.query.get("updatedSince"))
        result = await self.svc.reads.subscriptions(req.user["_id"], since)
        if isinstance(result, list):
            return {"update": result, "remove": []}
        return result

    async def subscriptions_get_one(self, req: RestRequest) -> dict[str, Any]:
        return {"subscription": await self.store.subscription(req.query["roomId"], req.user["_id"])}

    async def subscriptions_read(self, req: RestRequest) -> dict[str, Any]:
        rid = req.body.get("rid") or req.body.get("roomId")
        if not rid:
            raise ApiError("must have required property 'rid'", "invalid-params")
        room = await self.store.room(rid)
        if room is None:
            raise ApiError("error-room-does-not-exist")
        await self.svc.reads.mark_read(req.user, room, bool(req.body.get("readThreads")))
        return {}

    async def subscriptions_unread(self, req: RestRequest) -> dict[str, Any]:
        body = req.body
        if body.get("firstUnreadMessage"):
            await self.svc.reads.mark_unread(req.user, message_id=body["firstUnreadMessage"]["_id"])
            return {}
        if not body.get("roomId"):
            raise ApiError("must have required property 'roomId'", "invalid-params")
        room = await self.store.room(body["roomId"])
        if room is None:
            raise MeteorError("error-room-does-not-exist", "This room does not exist")
        await self.svc.reads.mark_unread(req.user, room=room)
        return {}
