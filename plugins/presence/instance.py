"""This process's presence instance id: stamped on every connection it records in `usersSessions`.

The id survives a restart, so a process that crashed and comes back can drop the connections it left
behind at once instead of waiting for the reaper. `ORBITCHAT_INSTANCE_ID` sets it explicitly (one per
process in a scale-out). Otherwise ids live in `<data_dir>/presence/instance-<n>.id` and a process holds
an exclusive lock on the slot it uses for as long as it runs: processes sharing a data directory get
different slots, and a restarted process takes back the first free one.
"""
from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from core.context import random_id

log = logging.getLogger("orbitchat.presence")

MAX_SLOTS = 64


class InstanceId:
    def __init__(self, value: str, handle: IO[str] | None = None) -> None:
        self.value = value
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()   # closing drops the lock
            self._handle = None


def _try_slot(path: Path) -> InstanceId | None:
    handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 - held open: the lock lives as long as it
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    value = handle.read().strip()
    if not value:
        value = random_id()
        handle.write(value)
        handle.flush()
        os.fsync(handle.fileno())
    return InstanceId(value, handle)


def claim(data_dir: Path, env: Mapping[str, str]) -> InstanceId:
    explicit = (env.get("ORBITCHAT_INSTANCE_ID") or "").strip()
    if explicit:
        return InstanceId(explicit)
    try:
        folder = Path(data_dir) / "presence"
        folder.mkdir(parents=True, exist_ok=True)
        for slot in range(MAX_SLOTS):
            claimed = _try_slot(folder / f"instance-{slot}.id")
            if claimed is not None:
                return claimed
    except OSError as exc:
        log.warning("cannot keep a presence instance id in %s (%s); using a fresh one", data_dir, exc)
    return InstanceId(random_id())
