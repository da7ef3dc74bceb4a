"""Reactions, pins, stars and thread follows: small atomic updates, each announced as a message update."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import MeteorError
from plugins.messaging.parsing import reaction_key
from plugins.messaging.service import now

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService


class MessageActions:
    def __init__(self, service: MessagingService) -> None:
        self.s = service

    # -- reactions ---------------------------------------------------------------------------------------
    async def react(self, user: Mapping[str, Any], message: dict, emoji: str, should_react: bool | None) -> bool:
        """Toggle (or set, with `should_react`) the user's reaction; returns whether it is now set."""
        s = self.s
        key = reaction_key(emoji)
        user = await s.get_user(user)
        room = await s.get_room(message["rid"])
        if room is None or not await s.can_access(user["_id"], room["_id"]):
            raise MeteorError("not-authorized", "Not Authorized", {"method": "setReaction"})
        await s.guard.writable_room(user, room["_id"], reacting=True)
        username = user.get("username")
        current = ((message.get("reactions") or {}).get(key) or {}).get("usernames") or []
        reacted = username in current
        if should_react is None:
            should_react = not reacted
        if should_react == reacted:
            return reacted
        path = f"reactions.{key}.usernames"
        if should_react:
            await s.messages.update_one({"_id": message["_id"]},
                                        {"$addToSet": {path: username}, "$set": {"_updatedAt": now()}})
        else:
            await s.messages.update_one({"_id": message["_id"]},
                                        {"$pull": {path: username}, "$set": {"_updatedAt": now()}})
            await s.messages.update_one({"_id": message["_id"], path: {"$size": 0}},
                                        {"$unset": {f"reactions.{key}": ""}})
            await s.messages.update_one({"_id": message["_id"], "reactions": {}}, {"$unset": {"reactions": ""}})
        await s.emit_changed(message["_id"])
        return should_react

    # -- pins --------------------------------------------------------------------------------------------
    async def _pin_check(self, user: Mapping[str, Any], message: dict, method: str) -> dict:
        s = self.s
        if not s.setting("Message_AllowPinning", True):
            raise MeteorError("error-action-not-allowed", "Message pinning not allowed",
                              {"method": method, "action": "Message_pinning"})
        if not await s.has_permission(user, "pin-message", message["rid"]):
            raise MeteorError("not-authorized", "Not Authorized", {"method": method})
        if await s.get_subscription(message["rid"], user["_id"], {"_id": 1}) is None:
            # Rocket.Chat: a message in a room the user is not in is reported as not found.
            raise MeteorError("error-invalid-message", "Message you are pinning was not found",
                              {"method": method, "action": "Message_pinning"})
        room = await s.get_room(message["rid"])
        if room is None or not await s.can_access(user["_id"], room["_id"]):
            raise MeteorError("not-authorized", "Not Authorized", {"method": method})
        return room

    async def pin(self, user: Mapping[str, Any], message: dict, pinned_at: datetime | None = None) -> dict:
        """Pin a message; returns the `message_pinned` system message quoting it."""
        s = self.s
        user = await s.get_user(user)
        await self._pin_check(user, message, "pinMessage")
        by = {"_id": user["_id"], "username": user.get("username")}
        at = pinned_at or now()
        await s.messages.update_one({"_id": message["_id"]},
                                    {"$set": {"pinned": True, "pinnedAt": at, "pinnedBy": by, "_updatedAt": now()}})
        await s.emit_changed(message["_id"])
        quoted = [a for a in message.get("attachments") or () if isinstance(a, dict) and not a.get("image_url")]
        attachment = {"text": message.get("msg", ""), "author_name": (message.get("u") or {}).get("username"),
                      "author_icon": f"/avatar/{(message.get('u') or {}).get('username')}", "ts": message["ts"]}
        if quoted:
            attachment["attachments"] = quoted
        return await s.pipeline.system_message(message["rid"], "message_pinned", user, "",
                                               {"attachments": [attachment]})

    async def unpin(self, user: Mapping[str, Any], message: dict) -> bool:
        s = self.s
        user = await s.get_user(user)
        await self._pin_check(user, message, "unpinMessage")
        by = {"_id": user["_id"], "username": user.get("username")}
        await s.messages.update_one({"_id": message["_id"]},
                                    {"$set": {"pinned": False, "pinnedBy": by, "_updatedAt": now()},
                                     "$unset": {"pinnedAt": ""}})
        await s.emit_changed(message["_id"])
        return True

    # -- stars -------------------------------------------------------------------------------------------
    async def star(self, user: Mapping[str, Any], message: dict, starred: bool) -> bool:
        s = self.s
        if not s.setting("Message_AllowStarring", True):
            raise MeteorError("error-action-not-allowed", "Message starring not allowed",
                              {"method": "starMessage", "action": "Message_starring"})
        if await s.get_subscription(message["rid"], user["_id"], {"_id": 1}) is None:
            return False
        if not await s.can_access(user["_id"], message["rid"]):
            raise MeteorError("not-authorized", "Not Authorized", {"method": "starMessage"})
        op = {"$addToSet": {"starred": {"_id": user["_id"]}}} if starred else \
            {"$pull": {"starred": {"_id": user["_id"]}}}
        await s.messages.update_one({"_id": message["_id"]}, {**op, "$set": {"_updatedAt": now()}})
        await s.emit_changed(message["_id"])
        return True

    # -- thread follows ----------------------------------------------------------------------------------
    async def follow(self, user: Mapping[str, Any], mid: Any, follow: bool) -> bool:
        s = self.s
        method = "followMessage" if follow else "unfollowMessage"
        if not s.setting("Threads_enabled", True):
            raise MeteorError("error-not-allowed", "not-allowed", {"method": method})
        message = await s.get_message(mid)
        if message is None:
            raise MeteorError("error-invalid-message", "Invalid message", {"method": method})
        if not await s.can_access(user["_id"], message["rid"]):
            raise MeteorError("error-not-allowed", "not-allowed", {"method": method})
        tmid = message.get("tmid") or message["_id"]
        op = {"$addToSet": {"replies": user["_id"]}} if follow else {"$pull": {"replies": user["_id"]}}
        await s.messages.update_one({"_id": tmid}, {**op, "$set": {"_updatedAt": now()}})
        await s.emit_changed(tmid)
        return True
