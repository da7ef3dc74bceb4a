"""Client writes to streams: `stream-notify-room` typing and user-activity events, checked and relayed.

The write is checked here (login, rate, room access, the username is the caller's) and turned into the
`user.activity` broker event; every process then re-emits it to its own subscribers (listeners.py),
except to the connection that wrote it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.ddp import DdpMethod, MethodInvocation
from core.errors import MeteorError
from plugins.ddp_streamer.room_events import ACTIVITIES
from plugins.ddp_streamer.streams import MAX_EVENT_NAME, NOTIFY_ROOM, split_event

if TYPE_CHECKING:
    from plugins.ddp_streamer.service import StreamerService

# Loose on purpose: every call is counted by the rate limiter before its arguments are judged.
WRITE_PARAMS = {"type": "array", "minItems": 1, "maxItems": 4,
                "prefixItems": [{"type": "string", "minLength": 1, "maxLength": MAX_EVENT_NAME}]}


def _not_allowed() -> MeteorError:
    return MeteorError("not-allowed", "Not allowed")


def _activities(event: str, args: tuple) -> tuple[str, list[str], dict[str, Any]]:
    """(username, activities, extra) from `user-activity` or legacy `typing` arguments."""
    username = args[0] if args else None
    if not isinstance(username, str) or not 0 < len(username) <= 200:
        raise MeteorError("invalid-params", "Invalid params")
    if event == "typing":
        typing = args[1] if len(args) > 1 else None
        if not isinstance(typing, bool):
            raise MeteorError("invalid-params", "Invalid params")
        return username, ["user-typing"] if typing else [], {}
    activity = args[1] if len(args) > 1 else []
    extra = args[2] if len(args) > 2 else {}
    if not isinstance(activity, list) or not all(a in ACTIVITIES for a in activity) or len(activity) > 3:
        raise MeteorError("invalid-params", "Invalid params")
    if extra is None:
        extra = {}
    if not isinstance(extra, dict):
        raise MeteorError("invalid-params", "Invalid params")
    tmid = extra.get("tmid")
    if tmid is not None and (not isinstance(tmid, str) or len(tmid) > 64):
        raise MeteorError("invalid-params", "Invalid params")
    return username, list(dict.fromkeys(activity)), ({"tmid": tmid} if isinstance(tmid, str) and tmid else {})


def methods(service: StreamerService) -> list[DdpMethod]:
    async def notify_room(inv: MethodInvocation, event_name: str, *args: Any) -> None:
        conn = inv.connection
        service.check_rate(conn)
        rid, event = split_event(event_name)
        if not rid or event not in ("user-activity", "typing"):
            raise _not_allowed()
        username, activities, extra = _activities(event, args)
        user = inv.ctx.user or {}
        real_name = bool(service.api.settings.get("UI_Use_Real_Name", False))
        if username != user.get("username") and not (real_name and username == user.get("name")):
            raise _not_allowed()
        if not await service.access.can_access(conn.user_id, rid):
            raise _not_allowed()
        await service.api.broker.emit("user.activity", {
            "username": username, "rid": rid, "activities": activities, "extra": extra,
            "connectionId": conn.id, "userId": conn.user_id,
        })

    return [DdpMethod(NOTIFY_ROOM, notify_room, auth=True, params=WRITE_PARAMS)]
