"""REST: `im.*` and its alias `dm.*` (direct messages). History, messages and files are messaging's."""
from __future__ import annotations

from typing import Any

from core.errors import ApiError, Forbidden
from core.rest import RestRequest
from plugins.rooms.routes_common import paged
from plugins.rooms.service import RoomsService
from plugins.rooms.store import public_room


class DirectRoutes:
    def __init__(self, service: RoomsService) -> None:
        self.svc = service

    @property
    def store(self) -> Any:
        return self.svc.store

    async def create(self, req: RestRequest) -> dict[str, Any]:
        body = req.body
        if "username" in body:
            names = [body["username"]]
        else:
            names = [n.strip() for n in body["usernames"].split(",") if n.strip()]
        me = await self.svc.user_doc(req.user)
        room = await self.svc.creation.create_direct(me, names, bool(body.get("excludeSelf")), req.ctx)
        return {"room": {**public_room(room), "_id": room["rid"], "rid": room["rid"]}}

    async def list(self, req: RestRequest) -> dict[str, Any]:
        result = await self.svc.queries.list_rooms(req.user, "d", req.page, joined_only=True)
        return paged("ims", result["items"], req.page, result["total"])

    async def list_everyone(self, req: RestRequest) -> dict[str, Any]:
        page = req.page
        items, total = await self.svc.queries.page(self.store.rooms, {**page.filter, "t": "d"}, page, [("_id", 1)])
        return paged("ims", [page.project(public_room(r)) for r in items], page, total)

    async def members(self, req: RestRequest) -> dict[str, Any]:
        room = await self.svc.find_direct(req.query, req.user)
        result = await self.svc.queries.members(room, req.page, req.query.get("filter"), req.query.get("status"))
        subs = {s["u"]["_id"]: s async for s in self.store.subs.find(
            {"rid": room["_id"], "u._id": {"$in": [m["_id"] for m in result["members"]]}},
            {"u": 1, "status": 1, "ts": 1, "roles": 1})}
        members = []
        for member in result["members"]:
            sub = {k: v for k, v in (subs.get(member["_id"]) or {}).items() if k != "u"}
            members.append({**member, "subscription": sub})
        return paged("members", members, req.page, result["total"])

    async def set_open(self, req: RestRequest, is_open: bool) -> dict[str, Any]:
        rid = req.body["roomId"]
        room = await self.store.room(rid)
        if room is not None:
            room = await self.svc.find_direct({"roomId": rid}, req.user)
        sub = await self.store.subscription(rid, req.user["_id"])
        if sub is None:
            if is_open:
                raise Forbidden()
            raise ApiError("The user is not subscribed to the room")
        if not is_open and not sub.get("open"):
            raise ApiError("The direct message room, is already closed to the sender")
        await self.svc.lifecycle.set_open(req.user, rid, is_open)
        return {}

    async def open(self, req: RestRequest) -> dict[str, Any]:
        return await self.set_open(req, True)

    async def close(self, req: RestRequest) -> dict[str, Any]:
        return await self.set_open(req, False)

    async def delete(self, req: RestRequest) -> dict[str, Any]:
        room = await self.svc.find_direct(req.body, req.user)
        await self.svc.lifecycle.delete(await self.svc.user_doc(req.user), room, req.ctx)
        return {}

    async def counters(self, req: RestRequest) -> dict[str, Any]:
        admin = await self.store.can(req.user, "view-room-administration")
        uid = req.query.get("userId") or req.user["_id"]
        if uid != req.user["_id"] and not admin:
            raise Forbidden()
        room = await self.svc.find_direct({"roomId": req.query["roomId"]}, req.user)
        return await self.svc.queries.counters(room, uid, admin)

    async def set_topic(self, req: RestRequest) -> dict[str, Any]:
        room = await self.svc.find_direct({"roomId": req.body["roomId"]}, req.user)
        topic = req.body.get("topic") or ""
        await self.svc.settings.save(await self.svc.user_doc(req.user), room, {"roomTopic": topic})
        return {"topic": topic}
