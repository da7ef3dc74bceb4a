"""Where chat.postMessage goes: `#channel`, `@username` or a room id/name (Rocket.Chat's processWebhookMessage)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.broker import ServiceNotFound
from core.errors import MeteorError

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService


class TargetResolver:
    def __init__(self, service: MessagingService) -> None:
        self.s = service

    async def resolve(self, user: Mapping[str, Any], target: str) -> dict[str, Any]:
        sigil, rest = target[:1], target[1:]
        if sigil == "#":
            room = await self._named_room(rest)
            if room is None:
                raise MeteorError("invalid-channel", "Invalid channel")
            return await self._joined(user, room)
        if sigil == "@":
            return await self._direct(user, rest, create=True)
        room = await self._named_room(target)
        if room is not None:
            return await self._joined(user, room)
        try:
            return await self._direct(user, target, create=False, by_id_only=True)
        except MeteorError:
            raise MeteorError("invalid-channel", "Invalid channel") from None

    async def _named_room(self, name_or_id: str) -> dict[str, Any] | None:
        if not name_or_id:
            return None
        room = await self.s.get_room(name_or_id)
        if room is None:
            room = await self.s.rooms.find_one({"name": name_or_id})
        return room

    async def _joined(self, user: Mapping[str, Any], room: dict[str, Any]) -> dict[str, Any]:
        """A bot posting to a public channel it is not in joins it first (Rocket.Chat's joinChannel)."""
        if room.get("t") == "c" and await self.s.get_subscription(room["_id"], user["_id"], {"_id": 1}) is None:
            try:
                await self.s.api.broker.call("rooms.add_user", room["_id"], user["_id"])
            except ServiceNotFound:
                pass
        return room

    async def _direct(self, user: Mapping[str, Any], who: str, *, create: bool,
                      by_id_only: bool = False) -> dict[str, Any]:
        other = await self.s.users.find_one({"_id": who}, {"_id": 1, "username": 1})
        if other is None and not by_id_only:
            other = await self.s.users.find_one({"username": who}, {"_id": 1, "username": 1})
        if other is None:
            raise MeteorError("invalid-channel", "Invalid channel")
        room = await self.find_direct(user["_id"], other["_id"])
        if room is None and create:
            try:
                created = await self.s.api.broker.call("rooms.create", user["_id"], "d", None, [other["username"]])
            except ServiceNotFound:
                created = None
            rid = (created or {}).get("rid") or (created or {}).get("_id")
            room = await self.s.get_room(rid) if rid else None
        if room is None:
            raise MeteorError("invalid-channel", "Invalid channel")
        return room

    async def find_direct(self, uid: str, other_id: str) -> dict[str, Any] | None:
        """The one-to-one direct room of two users (a self-DM when they are the same)."""
        wanted = {uid, other_id}
        async for room in self.s.rooms.find({"uids": uid, "t": "d"}):
            if set(room.get("uids") or ()) == wanted:
                return room
        return None
