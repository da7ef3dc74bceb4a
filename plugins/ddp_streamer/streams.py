"""The Rocket.Chat streams and who may read them (Rocket.Chat's NotificationsModule `allowRead` rules)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.ddp import Stream

if TYPE_CHECKING:
    from core.context import Context
    from plugins.ddp_streamer.service import StreamerService

NOTIFY_ALL = "stream-notify-all"
NOTIFY_LOGGED = "stream-notify-logged"
NOTIFY_USER = "stream-notify-user"
NOTIFY_ROOM = "stream-notify-room"
ROOM_MESSAGES = "stream-room-messages"
USER_PRESENCE = "stream-user-presence"
ROLES = "stream-roles"
APPS = "stream-apps"

STREAMS = (NOTIFY_ALL, NOTIFY_LOGGED, NOTIFY_USER, NOTIFY_ROOM, ROOM_MESSAGES, USER_PRESENCE, ROLES, APPS)

MY_MESSAGES = "__my_messages__"
MAX_EVENT_NAME = 300
PRIVATE_SETTINGS_PERMISSIONS = ("view-privileged-setting", "edit-privileged-setting", "manage-selected-settings")


def split_event(event_name: str) -> tuple[str, str]:
    """`"<key>/<event>"` → (key, event); either part may come back empty."""
    key, _, event = event_name.partition("/")
    return key, event


def streams(service: StreamerService) -> list[Stream]:
    async def notify_logged(ctx: Context, event_name: str, options: Any) -> bool:
        if len(event_name) > MAX_EVENT_NAME:
            return False
        if event_name == "private-settings-changed":
            return await service.has_any_permission(ctx.user, PRIVATE_SETTINGS_PERMISSIONS)
        return True

    async def notify_user(ctx: Context, event_name: str, options: Any) -> bool:
        uid, event = split_event(event_name)
        if not event or uid != ctx.user_id or len(event_name) > MAX_EVENT_NAME:
            return False
        if event == "rooms-changed":
            await service.bindings.track(uid)   # before `ready`: no room change is missed after it
        return True

    async def notify_room(ctx: Context, event_name: str, options: Any) -> bool:
        rid, event = split_event(event_name)
        if not rid or not event or len(event_name) > MAX_EVENT_NAME:
            return False
        return await service.access.can_access(ctx.user_id, rid)

    async def room_messages(ctx: Context, event_name: str, options: Any) -> bool:
        if event_name == MY_MESSAGES:
            return True   # filtered per event by room access
        if "/" in event_name or len(event_name) > MAX_EVENT_NAME:
            return False
        return await service.access.can_access(ctx.user_id, event_name)

    async def short_name(ctx: Context, event_name: str, options: Any) -> bool:
        return len(event_name) <= MAX_EVENT_NAME

    return [
        # Anonymous clients read public settings (the login page needs them) and the apps list.
        Stream(NOTIFY_ALL, auth=False, can_read=short_name),
        Stream(APPS, auth=False, can_read=short_name),
        Stream(NOTIFY_LOGGED, auth=True, can_read=notify_logged),
        Stream(ROLES, auth=True, can_read=short_name),
        Stream(NOTIFY_USER, auth=True, can_read=notify_user),
        Stream(NOTIFY_ROOM, auth=True, can_read=notify_room),
        Stream(ROOM_MESSAGES, auth=True, can_read=room_messages),
        Stream(USER_PRESENCE, auth=True, on_subscribe=service.presence.subscribe),
    ]
