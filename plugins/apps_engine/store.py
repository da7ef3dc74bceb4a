"""Where apps live: records in `rocketchat_apps`, package bytes in GridFS, logs, and the plugin.lock apps section.

The record keeps Rocket.Chat's storage-item shape (`_id` is also the private endpoint hash, `id` the app id,
`info` the manifest, `status`, `settings`) plus what OrbitChat needs to run the same app in every process:
the package hash and the GridFS file holding the package.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING

from core import lock as lockfile
from core.context import random_id
from core.storage import find_one_and_update

log = logging.getLogger("orbitchat.apps_engine")

APPS = "rocketchat_apps"
LOGS = "rocketchat_apps_logs"
PERSISTENCE = "rocketchat_apps_persistence"
SCHEDULER = "rocketchat_apps_scheduler"
PACKAGES = "rocketchat_apps_packages"      # GridFS bucket, as Rocket.Chat names it
LOG_TTL_SECONDS = 30 * 24 * 3600

ENABLED = ("auto_enabled", "manually_enabled")
STATUSES = ("unknown", "constructed", "initialized", "auto_enabled", "manually_enabled",
            "compiler_error_disabled", "invalid_license_disabled", "invalid_installation_disabled",
            "error_disabled", "manually_disabled", "invalid_settings_disabled", "disabled")


def now() -> datetime:
    return datetime.now(UTC)


def is_enabled(status: str | None) -> bool:
    return status in ENABLED


class AppStore:
    def __init__(self, db: Any) -> None:
        self.db = db
        self.apps = db[APPS]
        self.logs = db[LOGS]
        self.persistence = db[PERSISTENCE]
        self.jobs = db[SCHEDULER]
        self.bucket = AsyncGridFSBucket(db, bucket_name=PACKAGES)

    async def ensure_indexes(self) -> None:
        await self.apps.create_index("id", unique=True)
        await self.logs.create_index("_createdAt", expireAfterSeconds=LOG_TTL_SECONDS)
        await self.logs.create_index([("appId", ASCENDING), ("_createdAt", ASCENDING)])
        await self.persistence.create_index([("appId", ASCENDING), ("associations", ASCENDING)])
        await self.jobs.create_index([("nextRunAt", ASCENDING)])
        await self.jobs.create_index("appId")

    # -- records ---------------------------------------------------------------------------------------
    async def get(self, app_id: str) -> dict[str, Any] | None:
        return await self.apps.find_one({"id": app_id})

    async def all(self) -> list[dict[str, Any]]:
        return [doc async for doc in self.apps.find({}).sort("createdAt", ASCENDING)]

    async def insert(self, record: dict[str, Any]) -> dict[str, Any]:
        record = {"_id": random_id(), **record}
        await self.apps.insert_one(record)
        return record

    async def update(self, app_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        return await find_one_and_update(self.apps, {"id": app_id},
                                         {"$set": {**fields, "updatedAt": now()}}, after=True)

    async def delete(self, app_id: str) -> None:
        await self.apps.delete_one({"id": app_id})

    # -- package bytes -----------------------------------------------------------------------------------
    async def put_package(self, app_id: str, version: str, digest: str, data: bytes) -> Any:
        return await self.bucket.upload_from_stream(f"{app_id}-{version}.zip", data,
                                                    metadata={"appId": app_id, "hash": digest})

    async def get_package(self, file_id: Any) -> bytes:
        stream = await self.bucket.open_download_stream(file_id)
        return await stream.read()

    async def delete_package(self, file_id: Any) -> None:
        try:
            await self.bucket.delete(file_id)
        except Exception as exc:   # already gone: nothing to clean
            log.debug("package %s not deleted: %s", file_id, exc)

    # -- data an app leaves behind -----------------------------------------------------------------------
    async def purge(self, app_id: str) -> None:
        await self.persistence.delete_many({"appId": app_id})
        await self.jobs.delete_many({"appId": app_id})
        await self.logs.delete_many({"appId": app_id})

    # -- logs ----------------------------------------------------------------------------------------------
    async def write_logs(self, docs: list[dict[str, Any]]) -> None:
        if docs:
            await self.logs.insert_many(docs, ordered=False)

    async def read_logs(self, app_id: str, offset: int, count: int) -> tuple[list[dict], int]:
        query = {"appId": app_id}
        total = await self.logs.count_documents(query)
        cursor = self.logs.find(query).sort("_createdAt", -1).skip(offset)
        if count:
            cursor = cursor.limit(count)
        return [doc async for doc in cursor], total


class LockWriter:
    """Keeps plugin.lock's `[apps]` section equal to the installed apps; atomic replace on every change.

    Without a lock file the deployment does not pin plugins, and none is created: writing one with only an
    apps section would make the next start load no plugins at all.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self.warned = False

    @staticmethod
    def entry(record: dict[str, Any]) -> dict[str, Any]:
        return {"name": record["info"].get("name", ""), "version": record["info"]["version"],
                "hash": record.get("packageHash", ""), "enabled": is_enabled(record.get("status"))}

    def drift(self, records: list[dict[str, Any]]) -> list[str]:
        """How the lock's apps differ from the installed ones (reported at start-up, then rewritten: the
        database is the truth for apps, which are installed at runtime)."""
        current = lockfile.read(self.path) if self.path is not None else None
        if current is None:
            return []
        installed = {r["id"]: self.entry(r) for r in records}
        problems = [f"app locked but not installed: {a}" for a in sorted(set(current.apps) - set(installed))]
        problems += [f"app installed but not locked: {a}" for a in sorted(set(installed) - set(current.apps))]
        for app_id in sorted(set(installed) & set(current.apps)):
            for key, value in installed[app_id].items():
                if current.apps[app_id].get(key) != value:
                    locked = current.apps[app_id].get(key)
                    problems.append(f"app {app_id}: {key} locked {locked!r}, installed {value!r}")
        return problems

    async def write(self, records: list[dict[str, Any]]) -> bool:
        if self.path is None:
            return False
        async with self._lock:
            current = lockfile.read(self.path)
            if current is None:
                if not self.warned:
                    log.info("no %s: installed apps are not pinned", self.path)
                    self.warned = True
                return False
            apps = {r["id"]: self.entry(r) for r in records}
            if apps == current.apps:
                return False
            current.apps = apps
            lockfile.write(self.path, current)
            return True
