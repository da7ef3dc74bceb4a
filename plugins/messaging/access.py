"""Who may read a room and who may write in it (Rocket.Chat's canAccessRoom / canSendMessage)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.errors import ApiError, MeteorError

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService

READ_ONLY = "You can't send messages because the room is readonly."


def not_allowed(method: str | None = None) -> MeteorError:
    return MeteorError("error-not-allowed", "Not allowed", {"method": method} if method else None)


class RoomGuard:
    def __init__(self, service: MessagingService) -> None:
        self.s = service

    async def readable_room(self, user: Mapping[str, Any], rid: Any, method: str | None = None) -> dict:
        """The room, if it exists and the user may read it; otherwise a Rocket.Chat error."""
        room = await self.s.get_room(rid)
        if room is None:
            raise MeteorError("error-invalid-room", "Invalid room", {"method": method} if method else None)
        if not await self.s.can_access(user["_id"], room["_id"]):
            raise not_allowed(method)
        return room

    async def readable_message(self, user: Mapping[str, Any], mid: Any, method: str | None = None) -> dict:
        message = await self.s.get_message(mid)
        if message is None:
            raise MeteorError("error-message-not-found",
                              'The provided "messageId" does not match any existing message.')
        if not await self.s.can_access(user["_id"], message["rid"]):
            raise MeteorError("error-action-not-allowed", "Not allowed", {"method": method} if method else None)
        return message

    async def writable_room(self, user: Mapping[str, Any], rid: Any, *, reacting: bool = False) -> dict:
        """The room, if the user may post in it: exists, accessible, not archived, not blocked, not
        read-only for them, and they are not muted."""
        room = await self.s.get_room(rid)
        if room is None:
            raise MeteorError("error-invalid-room", "Invalid room", {"method": "sendMessage"})
        uid, username = user["_id"], user.get("username")
        if user.get("type") != "app" and not await self.s.can_access(uid, room["_id"]):
            raise not_allowed("sendMessage")
        if room.get("archived"):
            raise MeteorError("error-room-archived", "Room is archived", {"method": "sendMessage"})
        if room.get("t") == "d":
            sub = await self.s.get_subscription(room["_id"], uid, {"blocked": 1, "blocker": 1})
            if sub and (sub.get("blocked") or sub.get("blocker")):
                raise MeteorError("room_is_blocked", "This room is blocked")
        read_only = room.get("ro") and not (reacting and room.get("reactWhenReadOnly"))
        if read_only and not await self.may_post_read_only(user, room):
            raise ApiError(READ_ONLY, "error-not-allowed")
        if username and username in (room.get("muted") or ()):
            raise MeteorError("error-not-allowed", "You have been muted", {"rid": room["_id"]})
        return room

    async def may_post_read_only(self, user: Mapping[str, Any], room: dict) -> bool:
        """`post-readonly` (room-scoped: owners and moderators hold it), a room owner, or manually unmuted."""
        if user.get("username") in (room.get("unmuted") or ()):
            return True
        if await self.s.has_permission(user, "post-readonly", room["_id"]):
            return True
        sub = await self.s.get_subscription(room["_id"], user["_id"], {"roles": 1})
        return bool(sub and "owner" in (sub.get("roles") or ()))
