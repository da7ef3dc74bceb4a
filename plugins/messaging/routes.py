"""REST chat.*: send, post, update, delete, get, react, pin, star, follow."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from core.errors import ApiError, MeteorError
from core.rest import RestRequest, Route
from plugins.messaging import schemas
from plugins.messaging.targets import TargetResolver

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService

NOT_FOUND = 'The provided "messageId" does not match any existing message.'


def routes(svc: MessagingService) -> list[Route]:
    targets = TargetResolver(svc)

    async def message_or_404(mid: str) -> dict:
        message = await svc.get_message(mid)
        if message is None:
            raise MeteorError("error-message-not-found", NOT_FOUND)
        return message

    async def in_room(mid: str, rid: str) -> dict:
        message = await svc.get_message(mid)
        if message is None:
            raise ApiError(f'No message found with the id of "{mid}".')
        if message["rid"] != rid:
            raise ApiError("The room id provided does not match where the message is from.")
        return message

    async def send_message(req: RestRequest) -> dict[str, Any]:
        return {"message": await svc.pipeline.send(req.ctx, req.body["message"])}

    async def post_message(req: RestRequest) -> dict[str, Any]:
        body = req.body
        chosen = body.get("channel") or body.get("roomId")
        channels = chosen if isinstance(chosen, list) else [chosen] if chosen else []
        if not channels:
            raise MeteorError("invalid-channel", "Invalid channel")
        raw: dict[str, Any] = {"msg": (body.get("text") or body.get("msg") or "").strip(),
                               "alias": body.get("alias") or "", "groupable": body.get("groupable", False)}
        for key in ("attachments", "blocks", "tmid", "tshow", "customFields", "bot"):
            if body.get(key) is not None:
                raw[key] = body[key]
        if body.get("icon_url") or body.get("avatar"):
            raw["avatar"] = body.get("icon_url") or body.get("avatar")
        elif body.get("icon_emoji") or body.get("emoji"):
            raw["emoji"] = body.get("icon_emoji") or body.get("emoji")
        for attachment in raw.get("attachments") or ():
            if isinstance(attachment.get("msg"), str):
                attachment["text"] = attachment.pop("msg").strip()
        sent = []
        for channel in channels:
            room = await targets.resolve(req.user, channel)
            parse_urls = body.get("parseUrls", not body.get("attachments"))
            sent.append((channel, await svc.pipeline.send(req.ctx, {**raw, "rid": room["_id"]},
                                                          parse_urls=parse_urls)))
        channel, message = sent[0]
        return {"ts": int(time.time() * 1000), "channel": channel, "message": message}

    async def update(req: RestRequest) -> dict[str, Any]:
        message = await in_room(req.body["msgId"], req.body["roomId"])
        edited = await svc.pipeline.update(req.ctx, message, req.body["text"], req.body.get("customFields"))
        return {"message": edited}

    async def delete(req: RestRequest) -> dict[str, Any]:
        message = await in_room(req.body["msgId"], req.body["roomId"])
        actor: dict[str, Any] = dict(req.user)
        author = (message.get("u") or {}).get("_id")
        if req.body.get("asUser") and author != req.user["_id"]:
            if not await svc.has_permission(req.user, "force-delete-message", message["rid"]):
                raise ApiError("Unauthorized. You must have the permission \"force-delete-message\" to delete "
                               "other's message as them.")
            actor = await svc.users.find_one({"_id": author}, {"_id": 1, "username": 1, "name": 1, "roles": 1}) \
                or {"_id": author}
        await svc.deletion.delete(req.ctx, message, actor)
        return {"_id": message["_id"], "ts": str(int(time.time() * 1000)),
                "message": {"_id": message["_id"], "rid": message["rid"], "u": message.get("u")}}

    async def get_message(req: RestRequest) -> dict[str, Any]:
        return {"message": await svc.guard.readable_message(req.user, req.query["msgId"], "getSingleMessage")}

    async def react(req: RestRequest) -> dict[str, Any]:
        message = await message_or_404(req.body["messageId"])
        emoji = req.body.get("emoji") or req.body.get("reaction")
        if not emoji:
            raise MeteorError("error-emoji-param-not-provided", 'The required "emoji" param is missing.')
        await svc.actions.react(req.user, message, emoji, req.body.get("shouldReact"))
        return {}

    async def pin(req: RestRequest) -> dict[str, Any]:
        message = await message_or_404(req.body["messageId"])
        return {"message": await svc.actions.pin(req.user, message)}

    async def unpin(req: RestRequest) -> dict[str, Any]:
        await svc.actions.unpin(req.user, await message_or_404(req.body["messageId"]))
        return {}

    def star(starred: bool) -> Any:
        async def handler(req: RestRequest) -> dict[str, Any]:
            await svc.actions.star(req.user, await message_or_404(req.body["messageId"]), starred)
            return {}
        return handler

    def follow(on: bool) -> Any:
        async def handler(req: RestRequest) -> dict[str, Any]:
            await svc.actions.follow(req.user, req.body["mid"], on)
            return {}
        return handler

    return [
        Route("POST", "chat.sendMessage", send_message, body=schemas.SEND_BODY),
        Route("POST", "chat.postMessage", post_message, body=schemas.POST_BODY),
        Route("POST", "chat.update", update, body=schemas.UPDATE_BODY),
        Route("POST", "chat.delete", delete, body=schemas.DELETE_BODY),
        Route("GET", "chat.getMessage", get_message, query=schemas.GET_MESSAGE_QUERY),
        Route("POST", "chat.react", react, body=schemas.REACT_BODY),
        Route("POST", "chat.pinMessage", pin, body=schemas.MESSAGE_ID_BODY),
        Route("POST", "chat.unPinMessage", unpin, body=schemas.MESSAGE_ID_BODY),
        Route("POST", "chat.starMessage", star(True), body=schemas.MESSAGE_ID_BODY),
        Route("POST", "chat.unStarMessage", star(False), body=schemas.MESSAGE_ID_BODY),
        Route("POST", "chat.followMessage", follow(True), body=schemas.FOLLOW_BODY),
        Route("POST", "chat.unfollowMessage", follow(False), body=schemas.FOLLOW_BODY),
    ]
