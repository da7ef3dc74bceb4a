"""The rooms service: one object the hooks, routes, methods and broker actions use. Each concern lives in
its own module (creation, membership, settings, lifecycle, read state, counters, queries); this module
wires them together and finds rooms the way Rocket.Chat's REST helpers do, with the same errors."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import MeteorError
from plugins.rooms.counters import Counters
from plugins.rooms.creation import Creation
from plugins.rooms.lifecycle import Lifecycle
from plugins.rooms.membership import Membership, archived_error
from plugins.rooms.people import People
from plugins.rooms.queries import Queries
from plugins.rooms.readstate import ReadState
from plugins.rooms.room_settings import RoomSettings
from plugins.rooms.store import RoomStore

KIND_WORD = {"c": "channel", "p": "group", "d": "direct message"}


def param_missing() -> MeteorError:
    return MeteorError("error-roomid-param-not-provided", 'The parameter "roomId" or "roomName" is required')


def not_found(kind: str | None = None) -> MeteorError:
    word = KIND_WORD.get(kind or "c", "channel")
    if kind == "d":
        return MeteorError("error-room-not-found", f'The required "roomId" param provided does not match any {word}')
    return MeteorError("error-room-not-found",
                       f'The required "roomId" or "roomName" param provided does not match any {word}')


class RoomsService:
    def __init__(self) -> None:
        self.store = RoomStore()
        self.creation = Creation(self.store)
        self.membership = Membership(self.store)
        self.settings = RoomSettings(self.store)
        self.lifecycle = Lifecycle(self.store)
        self.reads = ReadState(self.store)
        self.counters = Counters(self.store)
        self.queries = Queries(self.store)
        self.people = People(self.store, self.lifecycle)

    def start(self, api: Any) -> None:
        self.store.start(api)

    # -- finding rooms as the REST API does ---------------------------------------------------------------
    async def _by_id_or_name(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        rid, name = params.get("roomId"), params.get("roomName")
        if isinstance(rid, str) and rid.strip():
            return await self.store.room(rid)
        if isinstance(name, str) and name.strip():
            return await self.store.room_by_name(name.removeprefix("#"))
        raise param_missing()

    async def find_room(self, params: Mapping[str, Any], user: Mapping[str, Any], kind: str | None = None,
                        check_archived: bool = True) -> dict[str, Any]:
        """`kind` None: any room the user can access (rooms.*); 'c': any public channel; 'p': a private
        group the user can access (others are reported as not found, as Rocket.Chat does)."""
        room = await self._by_id_or_name(params)
        if room is None or (kind is not None and room.get("t") != kind):
            raise not_found(kind)
        if kind != "c" and not await self.store.can_access(room, user):
            if kind is None:
                raise MeteorError("error-not-allowed", "Not allowed")
            raise not_found(kind)
        if check_archived and room.get("archived"):
            raise archived_error(room)
        return room

    async def find_direct(self, params: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
        """im.*: `roomId` is a room id (or, as Rocket.Chat accepts, a username); `username` names the peer."""
        key = params.get("roomId") or params.get("username")
        if not isinstance(key, str) or not key.strip():
            raise MeteorError("error-room-param-not-provided", 'Query param "roomId" or "username" is required')
        room = await self.store.room(key)
        if room is None:
            peer = await self.store.user_by_username(key)
            if peer is not None:
                uids = sorted({user["_id"], peer["_id"]})
                room = await self.store.room("".join(uids)) if len(uids) == 2 else \
                    await self.store.rooms.find_one({"t": "d", "uids": {"$size": 1, "$all": uids}})
        if room is None or room.get("t") != "d":
            raise not_found("d")
        if not await self.store.can_access(room, user):
            raise MeteorError("error-not-allowed", "Not allowed")
        return room

    async def room_for_method(self, rid: str, method: str, error: str = "error-invalid-room") -> dict[str, Any]:
        room = await self.store.room(rid)
        if room is None:
            raise MeteorError(error, "Invalid room", {"method": method})
        return room

    async def user_doc(self, user: Mapping[str, Any]) -> dict[str, Any]:
        """The caller's full user document (names for `u`, roles for checks)."""
        doc = await self.store.user(user["_id"])
        if doc is None or not doc.get("username"):
            raise MeteorError("error-invalid-user", "Invalid user")
        return doc
