"""Keeping `usersSessions` true over time: start-up clean-up, periodic refresh, the stale-connection reaper.

Every process refreshes `_updatedAt` of the connections it holds; any process's reaper drops connections
nobody refreshed for `Presence_Connection_Stale_Timeout` seconds, so the sessions of a process that died
age out. The refresh also repairs drift between this process's sockets and what the database says.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from plugins.presence.service import PresenceService, now

log = logging.getLogger("orbitchat.presence")

REFRESH_CHUNK = 10     # sessions refreshed per database command (each holds the database ~20 ms)
READ_BATCH = 100       # sessions read per database round trip


class Maintenance:
    def __init__(self, service: PresenceService) -> None:
        self.service = service
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        await self.drop_instance()   # what a previous run of this instance left behind
        self._tasks = [
            asyncio.create_task(self._every("Presence_Connection_Refresh_Interval", 60, self.refresh)),
            asyncio.create_task(self._every("Presence_Reaper_Interval", 60, self.reap)),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.service.local.clear()
        await self.drop_instance()

    async def drop_instance(self) -> None:
        svc = self.service
        for uid in await svc.remove_instance_connections(svc.instance_id):
            await svc.update_user_presence(uid)

    async def _every(self, setting: str, default: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(self.service.seconds(setting, default))
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("presence %s failed", job.__name__)

    async def refresh(self) -> None:
        """Touch this process's connections; drop records of closed sockets, restore missing ones."""
        svc, iid = self.service, self.service.instance_id
        recorded: dict[str, str] = {}
        cursor = svc.sessions.find({"connections.instanceId": iid}, {"connections": 1}).batch_size(READ_BATCH)
        async for doc in cursor:
            for conn in doc.get("connections") or []:
                if conn.get("instanceId") == iid and isinstance(conn.get("id"), str):
                    recorded[conn["id"]] = doc["_id"]
        touched: set[str] = set()
        for conn_id, uid in recorded.items():
            if svc.local.get(conn_id) != uid:      # the socket closed and the removal was lost
                await svc.sessions.update_one({"_id": uid},
                                              {"$pull": {"connections": {"id": conn_id, "instanceId": iid}}})
                touched.add(uid)
        for conn_id, uid in list(svc.local.items()):
            if conn_id not in recorded and svc.local.get(conn_id) == uid:   # reaped while we stalled
                await svc.insert_connection(uid, conn_id)
                touched.add(uid)
        # A few users per write: one write over thousands of sessions would hold the database for seconds,
        # and every message sent meanwhile would wait for it.
        users = sorted(set(recorded.values()) | set(svc.local.values()))
        for i in range(0, len(users), REFRESH_CHUNK):
            await svc.sessions.update_many({"_id": {"$in": users[i:i + REFRESH_CHUNK]}},
                                           {"$set": {"connections.$[c]._updatedAt": now()}},
                                           array_filters=[{"c.instanceId": iid}])
        for uid in touched:
            await svc.update_user_presence(uid)

    async def reap(self) -> None:
        """Remove connections not refreshed in time (their process died or hung) and update their users."""
        svc = self.service
        cutoff = now() - svc.stale_after
        plans: list[tuple[str, list[str]]] = []
        async for doc in svc.sessions.find({"connections._updatedAt": {"$lte": cutoff}}, {"connections": 1}):
            stale = [c["id"] for c in doc.get("connections") or []
                     if isinstance(c.get("_updatedAt"), datetime) and c["_updatedAt"] <= cutoff]
            if stale:
                plans.append((doc["_id"], stale))
        for uid, ids in plans:
            # The date guard keeps a connection refreshed since we read it.
            await svc.sessions.update_one({"_id": uid}, {"$pull": {"connections": {
                "id": {"$in": ids}, "_updatedAt": {"$lte": cutoff}}}})
            await svc.update_user_presence(uid)
