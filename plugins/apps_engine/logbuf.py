"""App logs: lines from the app's logger, its stderr and the engine's own notes about it, batched into
`rocketchat_apps_logs` (Rocket.Chat's shape: one document per app and method with its `entries`).

Writes happen off the request path, once a second, and an app that floods its log loses the excess rather
than the database's time.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from core.context import random_id

log = logging.getLogger("orbitchat.apps_engine")

FLUSH_INTERVAL = 1.0
MAX_PER_FLUSH = 500          # per app
SEVERITIES = {"debug", "info", "warning", "error", "critical", "success", "log"}


class AppLogs:
    def __init__(self, store: Any, instance_id: str) -> None:
        self.store = store
        self.instance_id = instance_id
        self._pending: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self._counts: dict[str, int] = defaultdict(int)
        self._dropped: dict[str, int] = defaultdict(int)
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self.flush()

    def sink(self, app_id: str, level: str, message: str) -> None:
        """The sandbox's log callback (synchronous)."""
        self.add(app_id, level, message, "app:log")

    def add(self, app_id: str, level: str, message: str, method: str = "engine") -> None:
        if self._counts[app_id] >= MAX_PER_FLUSH:
            self._dropped[app_id] += 1
            return
        self._counts[app_id] += 1
        severity = level if level in SEVERITIES else "info"
        self._pending[(app_id, method)].append({
            "severity": severity, "timestamp": datetime.now(UTC), "args": [message[:4000]],
            "caller": method})

    def forget(self, app_id: str) -> None:
        """Drop what is still buffered for an app being uninstalled."""
        for key in [k for k in self._pending if k[0] == app_id]:
            del self._pending[key]
        self._dropped.pop(app_id, None)

    async def flush(self) -> None:
        pending, self._pending = self._pending, defaultdict(list)
        dropped, self._dropped = self._dropped, defaultdict(int)
        self._counts = defaultdict(int)
        ts = datetime.now(UTC)
        docs = []
        for (app_id, method), entries in pending.items():
            if dropped.get(app_id):
                entries.append({"severity": "warning", "timestamp": ts, "caller": "engine",
                                "args": [f"{dropped.pop(app_id)} log lines dropped (more than {MAX_PER_FLUSH}/s)"]})
            docs.append({"_id": random_id(), "appId": app_id, "method": method, "entries": entries,
                         "instanceId": self.instance_id, "_createdAt": ts, "_updatedAt": ts})
        try:
            await self.store.write_logs(docs)
        except Exception:
            log.exception("could not store %d app log documents", len(docs))

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            if self._pending:
                await self.flush()
