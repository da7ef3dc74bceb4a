"""Room settings: Rocket.Chat's `saveRoomSettings` (rename, topic, description, announcement, type,
read-only, join code, ...), each change with its system message and change events."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from pymongo.errors import DuplicateKeyError

from core.errors import MeteorError
from plugins.rooms.names import duplicate_name, valid_room_name
from plugins.rooms.store import RoomStore

TEXT = {"type": ["string", "null"], "maxLength": 5000}
FLAG = {"type": "boolean"}
CUSTOM_FIELDS = {"type": "object", "maxProperties": 50, "propertyNames": {"pattern": "^[A-Za-z0-9_-]{1,64}$"},
                 "additionalProperties": {"type": ["string", "number", "boolean", "null"], "maxLength": 1000}}
# Settings a client may change, with the type each value must have.
SETTING_SCHEMAS: dict[str, dict] = {
    "roomName": {"type": "string", "minLength": 1, "maxLength": 200},
    "roomTopic": TEXT, "roomAnnouncement": TEXT, "roomDescription": TEXT,
    "roomType": {"enum": ["c", "p"]},
    "readOnly": FLAG, "reactWhenReadOnly": FLAG, "default": FLAG, "featured": FLAG, "encrypted": FLAG,
    "joinCode": {"type": ["string", "null"], "maxLength": 200},
    "systemMessages": {"type": "array", "maxItems": 100, "items": {"type": "string", "maxLength": 100}},
    "roomCustomFields": CUSTOM_FIELDS,
    "favorite": {"type": "object", "additionalProperties": False,
                 "properties": {"favorite": FLAG, "defaultValue": FLAG}},
}
VALIDATORS = {k: Draft202012Validator(v) for k, v in SETTING_SCHEMAS.items()}
TEXT_FIELDS = {"roomTopic": ("topic", "room_changed_topic"),
               "roomAnnouncement": ("announcement", "room_changed_announcement"),
               "roomDescription": ("description", "room_changed_description")}
ADMIN_ONLY = ("default", "featured")


def refused(message: str, action: str = "Editing_room") -> MeteorError:
    return MeteorError("error-action-not-allowed", message, {"method": "saveRoomSettings", "action": action})


class RoomSettings:
    def __init__(self, store: RoomStore) -> None:
        self.store = store

    async def save(self, actor: Mapping[str, Any], room: Mapping[str, Any], settings: dict[str, Any]) -> dict:
        """Validate everything first, then apply each change in order. Returns `{result, rid}`."""
        store = self.store
        if not settings or any(k not in SETTING_SCHEMAS for k in settings):
            raise MeteorError("error-invalid-settings", "Invalid settings provided", {"method": "saveRoomSettings"})
        for key, value in settings.items():
            if not VALIDATORS[key].is_valid(value):
                raise MeteorError("error-invalid-settings", "Invalid settings provided",
                                  {"method": "saveRoomSettings", "setting": key})
        rid = room["_id"]
        if not await store.can(actor, "edit-room", rid):
            raise refused("Editing room is not allowed")
        if room.get("broadcast") and (settings.get("readOnly") or settings.get("reactWhenReadOnly")):
            raise refused("Editing readOnly/reactWhenReadOnly are not allowed for broadcast rooms")
        await self._validate(actor, room, settings)
        for key, value in settings.items():
            fresh = await store.room(rid)
            if fresh is None:
                break
            await self._apply(actor, fresh, key, value)
        return {"result": True, "rid": rid}

    async def _validate(self, actor: Mapping[str, Any], room: Mapping[str, Any], settings: dict[str, Any]) -> None:
        store, rid = self.store, room["_id"]
        for key in ADMIN_ONLY:
            if key in settings and not await store.can(actor, "view-room-administration"):
                raise refused("Viewing room administration is not allowed", "Viewing_room_administration")
        kind = settings.get("roomType")
        if kind is not None and kind != room["t"]:
            if room["t"] == "d":
                raise MeteorError("error-direct-room", "Can't change type of direct rooms",
                                  {"function": "RocketChat.saveRoomType"})
            if not await store.can(actor, f"create-{kind}"):
                text = "a private group to a public channel" if kind == "c" else "a public channel to a private room"
                raise refused(f"Changing {text} is not allowed", "Change_Room_Type")
        if "readOnly" in settings and bool(settings["readOnly"]) != bool(room.get("ro")) \
                and not await store.can(actor, "set-readonly", rid):
            raise refused("Editing readOnly is not allowed")
        if "reactWhenReadOnly" in settings and not await store.can(actor, "set-react-when-readonly", rid):
            raise refused("Editing reactWhenReadOnly is not allowed")
        if "encrypted" in settings and bool(settings["encrypted"]) != bool(room.get("encrypted")) \
                and room["t"] not in ("p", "d"):
            raise refused("Only groups or direct channels can enable encryption", "Change_Room_Encrypted")
        if "roomName" in settings and room["t"] == "d":
            raise MeteorError("error-not-allowed", "Not allowed", {"function": "RocketChat.saveRoomdName"})
        if "roomName" in settings and settings["roomName"] != room.get("name"):
            await valid_room_name(store, settings["roomName"], rid)

    async def _apply(self, actor: Mapping[str, Any], room: Mapping[str, Any], key: str, value: Any) -> None:
        store, rid = self.store, room["_id"]
        if key == "roomName":
            await self.rename(actor, room, value)
        elif key in TEXT_FIELDS:
            field, kind = TEXT_FIELDS[key]
            value = value or ""
            if value != (room.get(field) or ""):
                await store.update_room(rid, {"$set": {field: value}})
                await store.system_message(rid, kind, actor, value)
        elif key == "roomType" and value != room["t"]:
            await store.update_room(rid, {"$set": {"t": value}})
            await store.update_room_subscriptions(rid, {"t": value})
            await store.system_message(rid, "room_changed_privacy", actor, "public" if value == "c" else "private")
        elif key == "readOnly" and bool(value) != bool(room.get("ro")):
            await store.update_room(rid, {"$set": {"ro": bool(value)}})
            await store.system_message(rid, "room-set-read-only" if value else "room-removed-read-only", actor,
                                       actor.get("username", ""))
        elif key == "reactWhenReadOnly" and bool(value) != bool(room.get("reactWhenReadOnly")):
            await store.update_room(rid, {"$set": {"reactWhenReadOnly": bool(value)}})
            await store.system_message(rid, "room-allowed-reacting" if value else "room-disallowed-reacting",
                                       actor, actor.get("username", ""))
        elif key == "joinCode":
            code = str(value or "")
            change = {"$set": {"joinCodeRequired": True, "joinCode": code}} if code else \
                {"$set": {"joinCodeRequired": False}, "$unset": {"joinCode": 1}}
            await store.update_room(rid, change)
        elif key == "roomCustomFields":
            await store.update_room(rid, {"$set": {"customFields": dict(value)}})
            await store.update_room_subscriptions(rid, {"customFields": dict(value)})
        elif key == "systemMessages":
            await store.update_room(rid, {"$set": {"sysMes": list(value)}})
        elif key == "favorite":
            await store.update_room(rid, {"$set": {"favorite": bool(value.get("favorite"))}})
        elif key in ("default", "featured", "encrypted") and bool(value) != bool(room.get(key)):
            await store.update_room(rid, {"$set": {key: bool(value)}})

    async def rename(self, actor: Mapping[str, Any], room: Mapping[str, Any], name: str) -> None:
        """saveRoomName: room `name`/`fname`, every subscription's names, an `r` system message."""
        store, rid = self.store, room["_id"]
        name = await valid_room_name(store, name, rid)
        if name == room.get("name"):
            return
        try:
            await store.update_room(rid, {"$set": {"name": name, "fname": name}})
        except DuplicateKeyError:
            raise duplicate_name(name, False) from None
        await store.update_room_subscriptions(rid, {"name": name, "fname": name, "alert": True})
        await store.system_message(rid, "r", actor, name)
