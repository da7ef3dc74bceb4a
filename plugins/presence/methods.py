"""DDP: UserPresence:setDefaultStatus, UserPresence:online, UserPresence:away, setUserStatus.

As in Rocket.Chat's ddp-streamer, the `UserPresence:*` methods quietly do nothing for a connection that
is not logged in (clients call them around reconnects), and accept the legacy leading user id argument
the web client still sends.
"""
from __future__ import annotations

from typing import Any

from core.ddp import DdpMethod, MethodInvocation
from core.errors import MeteorError
from plugins.presence.service import PresenceService
from plugins.presence.status import AWAY, ONLINE

OPTIONAL_UID = {"type": "array", "maxItems": 1, "items": {"type": ["string", "null"], "maxLength": 100}}
DEFAULT_STATUS = {"type": "array", "minItems": 1, "maxItems": 2,
                  "items": {"type": ["string", "null"], "maxLength": 100}}
USER_STATUS = {"type": "array", "maxItems": 2, "prefixItems": [
    {"type": ["string", "null"], "maxLength": 100},
    {"type": ["string", "null"], "maxLength": 1000},   # longer texts are cut to 120 characters
]}


def _check_user(inv: MethodInvocation, uid: str | None) -> None:
    """The legacy id argument may only name the caller."""
    if uid and uid != inv.ctx.user_id:
        raise MeteorError("cannot-change-other-users-status", "Cannot change other users' status")


def methods(service: PresenceService) -> list[DdpMethod]:
    async def set_default_status(inv: MethodInvocation, *params: Any) -> bool | None:
        if inv.ctx.user_id is None:
            return None
        uid, status = (None, params[0]) if len(params) == 1 else params
        _check_user(inv, uid)
        return await service.set_status(inv.ctx.user_id, status, None, "UserPresence:setDefaultStatus")

    def connection_status(status: str):
        async def handler(inv: MethodInvocation, uid: str | None = None) -> bool | None:
            if inv.ctx.user_id is None:
                return None
            _check_user(inv, uid)
            return await service.set_connection_status(inv.ctx.user_id, inv.connection.id, status)
        return handler

    async def set_user_status(inv: MethodInvocation, status: str | None = None,
                              status_text: str | None = None) -> None:
        await service.set_status(inv.ctx.user_id, status or None, status_text, "setUserStatus")

    return [
        DdpMethod("UserPresence:setDefaultStatus", set_default_status, auth=False, params=DEFAULT_STATUS),
        DdpMethod("UserPresence:online", connection_status(ONLINE), auth=False, params=OPTIONAL_UID),
        DdpMethod("UserPresence:away", connection_status(AWAY), auth=False, params=OPTIONAL_UID),
        DdpMethod("setUserStatus", set_user_status, params=USER_STATUS, rate_limit=(1, 1000)),
    ]
