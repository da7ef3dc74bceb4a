"""Presence logic: the connections of each user (`usersSessions`), the effective status kept on `users`,
and the `presence.status` broadcast. No web framework here.

Presence writes only `status`, `statusConnection`, `statusDefault` and `statusText` of a `users`
document; every other field belongs to the accounts service.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import MeteorError
from plugins.presence.status import (
    CONNECTION_STATUSES,
    OFFLINE,
    ONLINE,
    USER_STATUSES,
    normalize_status_text,
    process_presence_and_status,
)

log = logging.getLogger("orbitchat.presence")

SESSIONS = "usersSessions"
USER_FIELDS = {"username": 1, "name": 1, "roles": 1, "status": 1, "statusConnection": 1, "statusDefault": 1,
               "statusText": 1}
STATUS_EVENT = "presence.status"
LOCK_STRIPES = 64


def now() -> datetime:
    return datetime.now(UTC)


class PresenceService:
    """Created with the plugin; `start(api, instance_id)` binds it to the running kernel."""

    api: Any

    def __init__(self) -> None:
        self.instance_id = ""
        self.local: dict[str, str] = {}   # DDP connection id -> user id, for connections of this process
        self._locks: list[asyncio.Lock] = []

    async def start(self, api: Any, instance_id: str) -> None:
        self.api = api
        self.instance_id = instance_id
        self.sessions = api.db[SESSIONS]
        self.users = api.db["users"]
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    # -- settings -------------------------------------------------------------------------------------
    def seconds(self, sid: str, default: float) -> float:
        value = self.api.settings.get(sid)
        try:
            value = float(value)
        except (TypeError, ValueError):
            return default
        return value if value > 0 else default

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.seconds("Presence_Connection_Stale_Timeout", 300))

    def _lock(self, uid: str) -> asyncio.Lock:
        return self._locks[hash(uid) % LOCK_STRIPES]

    # -- connections ----------------------------------------------------------------------------------
    def connection_record(self, conn_id: str, status: str = ONLINE) -> dict[str, Any]:
        ts = now()
        return {"id": conn_id, "instanceId": self.instance_id, "status": status, "_createdAt": ts,
                "_updatedAt": ts}

    async def insert_connection(self, uid: str, conn_id: str) -> None:
        """Add a connection record once. Looked up first rather than guarded by `connections.id: {$ne}`, which
        the embedded database answers by scanning every user's sessions. Two adds of one socket racing would
        record it twice; removal pulls every record with its id."""
        if await self.sessions.find_one({"_id": uid, "connections.id": conn_id}, {"_id": 1}) is None:
            await self.sessions.update_one({"_id": uid}, {"$push": {"connections": self.connection_record(conn_id)}},
                                           upsert=True)

    async def add_connection(self, uid: str, conn_id: str) -> None:
        """A DDP session of this process logged in as `uid` (Rocket.Chat's `newConnection`)."""
        previous = self.local.get(conn_id)
        if previous == uid:
            return
        if previous is not None:      # the same socket logged in as someone else
            await self.remove_connection(conn_id)
        self.local[conn_id] = uid
        await self.insert_connection(uid, conn_id)
        if conn_id not in self.api.ddp.connections:   # closed while we were writing
            await self.remove_connection(conn_id)
            return
        await self.update_user_presence(uid)

    async def remove_connection(self, conn_id: str) -> None:
        """The session closed or logged out (Rocket.Chat's `removeConnection`)."""
        uid = self.local.pop(conn_id, None)
        if uid is None:
            return
        await self.sessions.update_one({"_id": uid}, {"$pull": {"connections": {"id": conn_id}}})
        await self.update_user_presence(uid)

    async def set_connection_status(self, uid: str, conn_id: str, status: str) -> bool:
        """`UserPresence:online` / `UserPresence:away`: the status one session reports."""
        if status not in CONNECTION_STATUSES:
            raise MeteorError("error-invalid-status", "Invalid status")
        result = await self.sessions.update_one(
            {"_id": uid, "connections.id": conn_id},
            {"$set": {"connections.$.status": status, "connections.$._updatedAt": now()}})
        await self.update_user_presence(uid)
        return result.modified_count > 0

    async def remove_instance_connections(self, instance_id: str) -> list[str]:
        """Drop every connection recorded by `instance_id`; return the users that had one."""
        flt = {"connections.instanceId": instance_id}
        affected = [d["_id"] async for d in self.sessions.find(flt, {"_id": 1})]
        if affected:
            await self.sessions.update_many(flt, {"$pull": {"connections": {"instanceId": instance_id}}})
        return affected

    # -- status ---------------------------------------------------------------------------------------
    def check_status(self, status: str | None, method: str) -> None:
        """Rocket.Chat's rules for a status a user chooses (shared by DDP and the REST service calls)."""
        if status is None:
            return
        if status not in USER_STATUSES:
            raise MeteorError("error-invalid-status", "Invalid status", {"method": method})
        if status == OFFLINE and not self.api.settings.get("Accounts_AllowInvisibleStatusOption", True):
            raise MeteorError("error-status-not-allowed", "Invisible status is disabled", {"method": method})

    async def check_text_change(self, uid: str, text: str, method: str) -> None:
        """`Accounts_AllowUserStatusMessageChange` off: the text may be restated, not changed."""
        if self.api.settings.get("Accounts_AllowUserStatusMessageChange", True):
            return
        user = await self.users.find_one({"_id": uid}, {"statusText": 1}) or {}
        if text != (user.get("statusText") or ""):
            raise MeteorError("error-not-allowed", "Not allowed", {"method": method})

    async def set_status(self, uid: str, status: str | None, status_text: str | None = None,
                         method: str = "setUserStatus") -> bool:
        """Set the user's chosen status and/or status text; True when the user document changed."""
        self.check_status(status, method)
        text = normalize_status_text(status_text) if status_text is not None else None
        if text is not None:
            await self.check_text_change(uid, text, method)
        return await self.update_user_presence(uid, status_default=status, status_text=text)

    async def get_status(self, uid: str) -> dict[str, Any] | None:
        user = await self.users.find_one({"_id": uid}, {"status": 1, "statusText": 1, "statusConnection": 1})
        if user is None:
            return None
        return {"status": user.get("status") or OFFLINE, "statusText": user.get("statusText") or "",
                "connectionStatus": user.get("statusConnection") or OFFLINE}

    async def update_user_presence(self, uid: str, status_default: str | None = None,
                                   status_text: str | None = None) -> bool:
        """Recompute `status` / `statusConnection` from the user's fresh connections and store what changed.

        Per-user serialised in this process, so two sessions closing at once cannot store a stale answer.
        """
        async with self._lock(uid):
            user = await self.users.find_one({"_id": uid}, USER_FIELDS)
            if user is None:
                return False
            doc = await self.sessions.find_one({"_id": uid}, {"connections": 1})
            default = status_default or user.get("statusDefault") or ONLINE
            status, status_connection = process_presence_and_status(
                (doc or {}).get("connections") or [], default, now(), self.stale_after)
            wanted: dict[str, Any] = {"status": status, "statusConnection": status_connection}
            if status_default is not None:
                wanted["statusDefault"] = status_default
            if status_text is not None:
                wanted["statusText"] = status_text
            changes = {k: v for k, v in wanted.items() if user.get(k) != v}
            if not changes:
                return False
            await self.users.update_one({"_id": uid}, {"$set": changes})
            if "status" in changes or "statusText" in changes:
                await self.broadcast({**user, **changes}, user.get("status"))
            return True

    async def broadcast(self, user: dict[str, Any], previous: str | None) -> None:
        payload = {"_id": user["_id"], "username": user.get("username"), "status": user.get("status"),
                   "statusText": user.get("statusText") or "", "name": user.get("name"),
                   "roles": list(user.get("roles") or [])}
        if not self.api.settings.get("Troubleshoot_Disable_Presence_Broadcast", False):
            await self.api.broker.emit(STATUS_EVENT, {"user": payload, "previousStatus": previous})
        self.api.hooks.notify("post_user_status_changed", user=payload, status=payload["status"],
                              previous_status=previous, status_text=payload["statusText"])

    # -- broker events --------------------------------------------------------------------------------
    async def on_login(self, event: dict[str, Any]) -> None:
        uid, conn_id = (event or {}).get("userId"), (event or {}).get("connectionId")
        # REST logins carry no connection; another process's sockets are that process's business.
        if isinstance(uid, str) and isinstance(conn_id, str) and conn_id in self.api.ddp.connections:
            await self.add_connection(uid, conn_id)

    async def on_connection_gone(self, event: dict[str, Any]) -> None:
        """`socket.disconnected` and `accounts.logout`: the session no longer counts for its user."""
        conn_id = (event or {}).get("connectionId")
        if (event or {}).get("shutdown") is True:
            return   # this process is stopping: presence's own shutdown drops all its connections in one write
        if isinstance(conn_id, str) and conn_id in self.local:
            await self.remove_connection(conn_id)

    async def on_user_deleted(self, event: dict[str, Any]) -> None:
        uid = (event or {}).get("userId")
        if isinstance(uid, str):
            for conn_id in [c for c, u in self.local.items() if u == uid]:
                self.local.pop(conn_id, None)
            await self.sessions.delete_one({"_id": uid})
