"""DDP methods: sendMessage, updateMessage, deleteMessage, history loading, reactions, pins, stars, threads."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from core.ddp import DdpMethod, MethodInvocation
from core.errors import ApiError, MeteorError, TooManyRequests
from plugins.messaging import schemas as s
from plugins.messaging.constants import EPHEMERAL_EVENT, SEND_RATE
from plugins.messaging.parsing import parse_date

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService


def _date(value: Any, name: str) -> Any:
    return None if value is None else parse_date(value, name)


def methods(svc: MessagingService) -> list[DdpMethod]:
    q = svc.queries

    async def send_message(inv: MethodInvocation, message: dict, *_: Any) -> Any:
        user = inv.ctx.user or {}
        allowed, _, reset = svc.limiter.hit(("sendMessage", user.get("_id")), *SEND_RATE)
        if not allowed and not await svc.has_permission(user, "send-many-messages"):
            raise TooManyRequests(max(0, reset - int(time.time() * 1000)))
        raw = dict(message)
        client_ts = raw.pop("ts", None)
        try:
            return await svc.pipeline.send(inv.ctx, raw, client_ts=client_ts)
        except ApiError as err:
            # As Rocket.Chat does: the sender also sees why, as an ephemeral message in the room.
            reason = getattr(err, "reason", None) or err.message
            await svc.api.broker.emit(EPHEMERAL_EVENT, {"uid": user.get("_id"), "rid": raw.get("rid"),
                                                        "message": {"msg": reason}})
            raise

    async def update_message(inv: MethodInvocation, message: dict, *_: Any) -> None:
        previous = await svc.get_message(message.get("_id"))
        if previous is None:
            return
        await svc.pipeline.update(inv.ctx, previous, message.get("msg"), message.get("customFields"))
        return

    async def delete_message(inv: MethodInvocation, message: dict) -> None:
        found = await svc.get_message(message.get("_id"))
        if found is None:
            raise MeteorError("error-action-not-allowed", "Not allowed",
                              {"method": "deleteMessage", "action": "Delete_message"})
        await svc.deletion.delete(inv.ctx, found, dict(inv.ctx.user or {}))

    async def readable(inv: MethodInvocation, rid: Any) -> dict | None:
        room = await svc.get_room(rid)
        if room is None or not await svc.can_access(inv.ctx.user_id or "", room["_id"]):
            return None
        return room

    async def load_history(inv: MethodInvocation, rid: str, end: Any = None, limit: Any = 20, ls: Any = None,
                           show_threads: Any = True) -> Any:
        room = await readable(inv, rid)
        if room is None:
            return False
        user = inv.ctx.user or {}
        if room.get("t") == "c" and not await svc.has_permission(user, "preview-c-room") and \
                await svc.get_subscription(room["_id"], user["_id"], {"_id": 1}) is None:
            raise MeteorError("error-not-allowed", "Not allowed", {"method": "loadHistory"})
        result = await q.history(room, latest=_date(end, "end"), count=20 if limit is None else limit,
                                 show_threads=show_threads is not False, unreads_since=_date(ls, "ls"))
        result.setdefault("unreadNotLoaded", 0)
        return result

    async def load_next(inv: MethodInvocation, rid: str, end: Any = None, limit: Any = 20) -> Any:
        room = await readable(inv, rid)
        if room is None:
            return False
        return {"messages": await q.next_messages(room, _date(end, "end"), 20 if limit is None else limit)}

    async def load_surrounding(inv: MethodInvocation, message: dict, limit: Any = 50) -> Any:
        found = await svc.get_message(message.get("_id"))
        room = await readable(inv, found["rid"]) if found else None
        if found is None or room is None:
            return False
        return await q.surrounding(room, found, 50 if limit is None else limit)

    async def load_missed(inv: MethodInvocation, rid: str, start: Any) -> Any:
        room = await readable(inv, rid)
        if room is None or start is None:
            return False
        return await q.missed(room, parse_date(start, "start"))

    async def set_reaction(inv: MethodInvocation, reaction: str, mid: str, should_react: Any = None) -> None:
        message = await svc.get_message(mid)
        if message is None:
            raise MeteorError("error-not-allowed", "Not allowed", {"method": "setReaction"})
        await svc.actions.react(inv.ctx.user or {}, message, reaction, should_react)

    async def pin_message(inv: MethodInvocation, message: dict, pinned_at: Any = None) -> Any:
        found = await svc.get_message(message.get("_id"))
        if found is None:
            raise MeteorError("error-invalid-message", "Message you are pinning was not found",
                              {"method": "pinMessage", "action": "Message_pinning"})
        return await svc.actions.pin(inv.ctx.user or {}, found, _date(pinned_at, "pinnedAt"))

    async def unpin_message(inv: MethodInvocation, message: dict) -> Any:
        found = await svc.get_message(message.get("_id"))
        if found is None:
            raise MeteorError("error-invalid-message", "Message you are unpinning was not found",
                              {"method": "unpinMessage", "action": "Message_pinning"})
        return await svc.actions.unpin(inv.ctx.user or {}, found)

    async def star_message(inv: MethodInvocation, message: dict) -> Any:
        found = await svc.get_message(message.get("_id"))
        if found is None:
            raise MeteorError("error-action-not-allowed", "Not allowed", {"method": "starMessage"})
        return await svc.actions.star(inv.ctx.user or {}, found, message.get("starred", True) is not False)

    async def get_single(inv: MethodInvocation, mid: str) -> Any:
        if await svc.get_message(mid) is None:
            return None
        return await svc.guard.readable_message(inv.ctx.user or {}, mid, "getSingleMessage")

    async def thread_messages(inv: MethodInvocation, args: dict) -> Any:
        if not svc.setting("Threads_enabled", True):
            raise MeteorError("error-not-allowed", "Threads Disabled", {"method": "getThreadMessages"})
        parent = await svc.get_message(args.get("tmid"))
        if parent is None:
            return []
        if not await svc.can_access(inv.ctx.user_id or "", parent["rid"]):
            raise MeteorError("error-not-allowed", "Not Allowed", {"method": "getThreadMessages"})
        replies, _ = await q.thread(parent, args.get("skip") or 0, args.get("limit") or 0, ascending=False)
        return [parent, *replies]

    async def threads_list(inv: MethodInvocation, args: dict) -> Any:
        room = await svc.guard.readable_room(inv.ctx.user or {}, args.get("rid"), "getThreadsList")
        items, _ = await q.threads(room, lambda d: True, args.get("skip") or 0, args.get("limit") or 50)
        return items

    def follow(on: bool) -> Any:
        async def handler(inv: MethodInvocation, args: dict) -> Any:
            return await svc.actions.follow(inv.ctx.user or {}, args["mid"], on)
        return handler

    async def messages_get(inv: MethodInvocation, rid: str, options: dict | None = None) -> Any:
        room = await svc.guard.readable_room(inv.ctx.user or {}, rid, "messages/get")
        since = _date((options or {}).get("lastUpdate"), "lastUpdate")
        if since is None:
            return False
        return {"updated": await q.updated_since(room, since), "deleted": await q.deleted_since(rid, since)}

    limit = {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 1000}, {"type": "null"}]}
    thread_args = {"type": "object", "properties": {"tmid": s.ID, "limit": limit, "skip": limit},
                   "required": ["tmid"], "additionalProperties": False}
    list_args = {"type": "object", "properties": {"rid": s.ID, "limit": limit, "skip": limit},
                 "required": ["rid"], "additionalProperties": False}
    urls = {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 10, "items": s.SHORT}]}
    files = {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 10, "items": s.SAFE_OBJECT}]}
    bool_ = s.BOOL_OR_NULL
    return [
        DdpMethod("sendMessage", send_message, params=s.params(s.DDP_MESSAGE, urls, files, min_items=1)),
        DdpMethod("updateMessage", update_message, params=s.params(s.DDP_MESSAGE, urls, min_items=1)),
        DdpMethod("deleteMessage", delete_message, params=s.params(s.MESSAGE_REF, min_items=1)),
        DdpMethod("loadHistory", load_history,
                  params=s.params(s.ID, s.DATE_OR_NULL, limit, s.DATE_OR_NULL, bool_, min_items=1)),
        DdpMethod("loadNextMessages", load_next, params=s.params(s.ID, s.DATE_OR_NULL, limit, min_items=1)),
        DdpMethod("loadSurroundingMessages", load_surrounding, params=s.params(s.MESSAGE_REF, limit, min_items=1)),
        DdpMethod("loadMissedMessages", load_missed, params=s.params(s.ID, s.DATE_OR_NULL, min_items=2)),
        DdpMethod("setReaction", set_reaction,
                  params=s.params({"type": "string", "maxLength": 100}, s.ID, bool_, min_items=2)),
        DdpMethod("pinMessage", pin_message, params=s.params(s.MESSAGE_REF, s.DATE_OR_NULL, min_items=1)),
        DdpMethod("unpinMessage", unpin_message, params=s.params(s.MESSAGE_REF, min_items=1)),
        DdpMethod("starMessage", star_message, params=s.params(s.MESSAGE_REF, min_items=1)),
        DdpMethod("getSingleMessage", get_single, params=s.params(s.ID, min_items=1)),
        DdpMethod("getThreadMessages", thread_messages, params=s.params(thread_args, min_items=1)),
        DdpMethod("getThreadsList", threads_list, params=s.params(list_args, min_items=1)),
        DdpMethod("followMessage", follow(True), params=s.params(s.MID_OBJECT, min_items=1)),
        DdpMethod("unfollowMessage", follow(False), params=s.params(s.MID_OBJECT, min_items=1)),
        DdpMethod("messages/get", messages_get,
                  params=s.params(s.ID, {"type": "object", "properties": {"lastUpdate": s.DATE_OR_NULL},
                                         "additionalProperties": False}, min_items=1)),
    ]
