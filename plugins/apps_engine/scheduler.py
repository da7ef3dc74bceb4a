"""App jobs: one-off and recurring calls of an app's processors, stored in `rocketchat_apps_scheduler`.

Every process runs the loop; a due job is claimed with an atomic update (`lockedAt`), so with several
processes each job runs once, in a process where its app is running.
"""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.context import random_id
from core.storage import find_one_and_update
from plugins.apps_engine.accessors import AccessorError
from plugins.apps_engine.store import now

if TYPE_CHECKING:
    from plugins.apps_engine.service import AppsEngine

log = logging.getLogger("orbitchat.apps_engine")

POLL = 1.0
LOCK_TIMEOUT = timedelta(minutes=2)
MIN_INTERVAL = 1
MAX_JOBS_PER_APP = 1000
_HUMAN = re.compile(r"^in\s+(\d+(?:\.\d+)?)\s*(second|minute|hour|day)s?$", re.IGNORECASE)
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def when_to_datetime(when: Any) -> datetime:
    """A datetime, an ISO string, `in N seconds|minutes|hours|days`, or a number of seconds from now."""
    if isinstance(when, datetime):
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    if isinstance(when, bool):
        raise AccessorError("when must be a date, an ISO string, 'in N minutes' or seconds")
    if isinstance(when, (int, float)):
        return now() + timedelta(seconds=max(0.0, float(when)))
    if isinstance(when, str):
        m = _HUMAN.match(when.strip())
        if m:
            return now() + timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2).lower()])
        try:
            parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise AccessorError("when must be a date, an ISO string, 'in N minutes' or seconds")


class JobScheduler:
    def __init__(self, engine: AppsEngine) -> None:
        self.engine = engine
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()

    @property
    def jobs(self) -> Any:
        return self.engine.store.jobs

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # -- what apps ask for ---------------------------------------------------------------------------------
    def _check(self, app_id: str, processor: str, data: Any) -> None:
        app = self.engine.running.get(app_id)
        if app is None or processor not in app.processors:
            raise AccessorError(f"the app registered no processor {processor!r}")
        if data is not None and not isinstance(data, dict):
            raise AccessorError("data must be an object")

    async def _insert(self, doc: dict[str, Any]) -> str:
        if await self.jobs.count_documents({"appId": doc["appId"]}) >= MAX_JOBS_PER_APP:
            raise AccessorError(f"an app may keep at most {MAX_JOBS_PER_APP} jobs")
        await self.jobs.insert_one(doc)
        self._wake.set()
        return doc["_id"]

    async def schedule_once(self, app_id: str, processor: str, when: Any, data: Any) -> str:
        self._check(app_id, processor, data)
        return await self._insert({"_id": random_id(), "appId": app_id, "processor": processor,
                                   "name": f"{processor}_{app_id}", "type": "onetime", "data": data or {},
                                   "nextRunAt": when_to_datetime(when), "lockedAt": None, "lastRunAt": None,
                                   "createdAt": now()})

    async def schedule_recurring(self, app_id: str, processor: str, interval: Any, data: Any,
                                 skip_immediate: bool) -> str:
        self._check(app_id, processor, data)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < MIN_INTERVAL:
            raise AccessorError(f"interval_seconds must be a number of at least {MIN_INTERVAL}")
        first = now() + timedelta(seconds=interval if skip_immediate else 0)
        return await self._insert({"_id": random_id(), "appId": app_id, "processor": processor,
                                   "name": f"{processor}_{app_id}", "type": "recurring", "data": data or {},
                                   "interval": float(interval), "nextRunAt": first, "lockedAt": None,
                                   "lastRunAt": None, "createdAt": now()})

    async def cancel(self, app_id: str, job_id: str) -> None:
        await self.jobs.delete_one({"_id": job_id, "appId": app_id})

    async def cancel_all(self, app_id: str) -> None:
        await self.jobs.delete_many({"appId": app_id})

    # -- the loop --------------------------------------------------------------------------------------------
    async def _loop(self) -> None:
        while True:
            try:
                while await self._run_one():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("app scheduler pass failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), POLL)
            except TimeoutError:
                pass

    async def _run_one(self) -> bool:
        """Claim and run one due job of an app running here; False when none is due."""
        running = [a for a, app in self.engine.running.items() if app.processors]
        if not running:
            return False
        t = now()
        due = {"appId": {"$in": running}, "nextRunAt": {"$lte": t},
               "$or": [{"lockedAt": None}, {"lockedAt": {"$lt": t - LOCK_TIMEOUT}}]}
        job = await find_one_and_update(self.jobs, due, {"$set": {"lockedAt": t}}, sort=[("nextRunAt", 1)], after=True)
        if job is None:
            return False
        app = self.engine.running.get(job["appId"])
        try:
            if app is not None:
                await app.handle("scheduler:" + job["processor"], {**job.get("data", {}), "jobId": job["_id"]})
        except Exception as exc:
            self.engine.logs.add(job["appId"], "error", f"job {job['processor']} failed: {exc}", "scheduler")
        finally:
            await self._finish(job)
        return True

    async def _finish(self, job: dict[str, Any]) -> None:
        if job["type"] == "onetime":
            await self.jobs.delete_one({"_id": job["_id"]})
            return
        t = now()
        await self.jobs.update_one({"_id": job["_id"]}, {"$set": {
            "lockedAt": None, "lastRunAt": t, "nextRunAt": t + timedelta(seconds=job["interval"])}})
