"""StreamHub: the leader follows the database's change stream and announces every change on the broker.

Only in `STREAMHUB=changestream` mode (otherwise services announce their own writes). Exactly one process
leads (a lock in the database, renewed every third of its TTL); when the leader dies another takes over
and resumes from the last saved resume token, so no change after the takeover point is lost (a change may
be announced twice around a takeover: delivery is at least once).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pymongo.errors import PyMongoError

from core.context import random_id
from plugins.streamhub.leader import LeaderLock
from plugins.streamhub.mapping import WATCHED, to_event

log = logging.getLogger("orbitchat.streamhub")
STATE = "orbitchat_streamhub"
SAVE_EVERY = 0.1   # seconds between resume-token saves


class StreamHub:
    def __init__(self) -> None:
        self.instance = random_id(12)
        self.api: Any = None
        self.leading = False
        self.emitted = 0
        self._token: Any = None
        self._saved: Any = None
        self._task: asyncio.Task | None = None

    async def start(self, api: Any) -> None:
        self.api = api
        if api.streamhub_mode != "changestream":
            return
        ttl = float(api.env.get("STREAMHUB_LOCK_TTL", "10"))
        self.lock = LeaderLock(api.db["orbitchat_locks"], "streamhub", self.instance, ttl)
        self.state = api.db[STATE]
        self._task = asyncio.create_task(self._run(ttl))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            if self.leading:
                await self.lock.release()

    async def _run(self, ttl: float) -> None:
        while True:
            try:
                if await self.lock.acquire():
                    if not self.leading:
                        log.info("StreamHub %s is the leader", self.instance)
                    self.leading = True
                    await self._lead(ttl)
                self.leading = False
            except asyncio.CancelledError:
                raise
            except PyMongoError as exc:
                log.warning("StreamHub: database error %s; retrying", exc)
                self.leading = False
            await asyncio.sleep(ttl / 3)

    async def _lead(self, ttl: float) -> None:
        """Watch until leadership is lost (a failed renewal) or the stream breaks."""
        watcher = asyncio.create_task(self._watch())
        try:
            while not watcher.done():
                done, _ = await asyncio.wait({watcher}, timeout=ttl / 3)
                if done:
                    break
                if not await self.lock.acquire():
                    log.warning("StreamHub %s lost the leader lock", self.instance)
                    return
                await self._save()   # a quiet stream still records how far it got
            watcher.result()
        finally:
            watcher.cancel()

    async def _watch(self) -> None:
        saved = await self.state.find_one({"_id": "resume"})
        token = saved.get("token") if saved else None
        pipeline = [{"$match": {"ns.coll": {"$in": list(WATCHED)}}}]
        try:
            stream = await self.api.db.watch(pipeline, full_document="updateLookup", resume_after=token)
        except PyMongoError as exc:
            if token is None:
                raise
            log.warning("StreamHub: cannot resume (%s); following from now on", exc)
            stream = await self.api.db.watch(pipeline, full_document="updateLookup")
        last_save = 0.0
        async with stream:
            async for change in stream:
                mapped = to_event(change)
                if mapped is not None:
                    await self.api.broker.emit(*mapped)
                    self.emitted += 1
                self._token = stream.resume_token
                now = time.monotonic()
                if now - last_save >= SAVE_EVERY:
                    await self._save()
                    last_save = now

    async def _save(self) -> None:
        if self._token is not None and self._token != self._saved:
            token = self._token
            await self.state.update_one({"_id": "resume"}, {"$set": {"token": token, "by": self.instance}},
                                        upsert=True)
            self._saved = token
