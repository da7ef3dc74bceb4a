"""Room name rules: Rocket.Chat's `getValidRoomName` (setting `UTF8_Channel_Names_Validation`)."""
from __future__ import annotations

import html
import re
from typing import Any

from core.errors import MeteorError
from plugins.rooms.constants import DEFAULT_NAME_VALIDATION

RESERVED = frozenset({"all", "here"})
MAX_NAME = 100


def name_pattern(setting: Any) -> re.Pattern[str]:
    try:
        return re.compile(f"^(?:{setting})$")
    except (re.error, TypeError):
        return re.compile(f"^(?:{DEFAULT_NAME_VALIDATION})$")


def check_name_syntax(name: str, setting: Any) -> str:
    """Return the trimmed name, or raise `error-invalid-room-name`."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME or not name_pattern(setting).match(name) or name.lower() in RESERVED:
        shown = html.escape(name)
        raise MeteorError("error-invalid-room-name", f"{shown} is not a valid room name.",
                          {"function": "RocketChat.getValidRoomName", "channel_name": shown})
    return name


def duplicate_name(name: str, archived: bool) -> MeteorError:
    details = {"function": "RocketChat.getValidRoomName", "channel_name": name}
    if archived:
        return MeteorError("error-archived-duplicate-name", f"There's an archived channel with name {name}", details)
    return MeteorError("error-duplicate-channel-name", f"A channel with name '{name}' exists", details)


async def valid_room_name(store: Any, name: str, rid: str | None = None) -> str:
    """Syntax check, then uniqueness among channels and groups (the unique index is the final word)."""
    name = check_name_syntax(name, store.setting("UTF8_Channel_Names_Validation", DEFAULT_NAME_VALIDATION))
    existing = await store.rooms.find_one({"name": name}, {"_id": 1, "archived": 1})
    if existing is not None and existing["_id"] != rid:
        raise duplicate_name(name, bool(existing.get("archived")))
    return name
