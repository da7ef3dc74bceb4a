"""Storage bootstrap: the embedded SecantusDB child process, the MongoDB client, beanie initialisation.

The embedded server always runs as its own process (never imported here): it keeps its licence at arm's
length and gets the second CPU core. It dies with us: PR_SET_PDEATHSIG makes the kernel send it SIGTERM
if this process exits for any reason, so a crash leaves no orphan.
"""
from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, MongoClient, ReturnDocument

log = logging.getLogger("orbitchat.storage")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    os.setpgrp()  # a Ctrl-C in the terminal goes to us; we stop the database in order


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _server_command() -> list[str]:
    exe = shutil.which("secantusd-py", path=str(Path(sys.executable).parent)) or shutil.which("secantusd-py")
    if exe:
        return [exe]
    return [sys.executable, "-m", "secantus"]


class EmbeddedDatabase:
    """A SecantusDB server owned by this process, with its data in `path`."""

    def __init__(self, path: Path, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.path = Path(path)
        self.host = host
        self.port = port or free_port(host)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    def start(self, timeout: float = 30.0) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        log_file = open(self.path.parent / "db.log", "ab")
        cmd = _server_command() + ["--host", self.host, "--port", str(self.port),
                                   "--storage-path", str(self.path), "--log-level", "WARNING"]
        self.proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent, close_fds=True)
        log_file.close()
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = MongoClient(self.url, serverSelectionTimeoutMS=200, connectTimeoutMS=200)
        try:
            while True:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"embedded database exited with code {self.proc.returncode}; "
                                       f"see {self.path.parent / 'db.log'}")
                try:
                    client.admin.command("ping")
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError("embedded database did not answer in time") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM lets WiredTiger checkpoint and close cleanly; SIGKILL only if it will not stop."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("embedded database did not stop within %.0fs; killing it", timeout)
            proc.kill()
            proc.wait()


def make_client(url: str, retry_writes: bool = True) -> AsyncMongoClient:
    return AsyncMongoClient(url, tz_aware=True, uuidRepresentation="standard", serverSelectionTimeoutMS=10000,
                            retryWrites=retry_writes)


# Clients connected to SecantusDB (the embedded default, or one run separately): see `find_one_and_update`.
_SECANTUS: weakref.WeakSet = weakref.WeakSet()


async def connect(url: str) -> AsyncMongoClient:
    """A client for `url`. Against SecantusDB, writes are not made retryable unless the URL asks for it: it
    keeps a record of every retryable write for 30 minutes and scans (and past 10,000, sorts) all of them on
    each write, so the cost of a write grows with the writes before it. A single local server has no
    failover for a retry to ride out anyway. MongoDB keeps the driver's default (retryable writes on)."""
    client = make_client(url)
    try:
        info = await client.server_info()
    except Exception:
        return client   # unreachable for now: the driver's defaults, and the usual errors later
    if "secantusVersion" not in info:
        return client
    if "retrywrites" not in url.lower():
        await client.close()
        client = make_client(url, retry_writes=False)
    _SECANTUS.add(client)
    return client


def _emulate_find_and_modify(collection: Any) -> bool:
    """SecantusDB's findAndModify costs time in proportion to the collection (92 ms at 5,000 documents
    against 1.6 ms for the same `update_one`, even on `_id`): there it is done as indexed find + write."""
    return collection.database.client in _SECANTUS


async def find_one_and_update(collection: Any, query: dict[str, Any], update: dict[str, Any], *,
                              sort: Any = None, upsert: bool = False, after: bool = False) -> dict | None:
    """`find_one_and_update` (the document before the update, or with `after` the one after it).

    Where emulated, it is done as SecantusDB itself does it inside the command: find a match, write it keyed by
    its `_id` and the query again (so a document changed or taken meanwhile is not written: pick again), then
    read back the post-image by `_id`. That read may already show a later write by someone else."""
    if not _emulate_find_and_modify(collection):
        return await collection.find_one_and_update(
            query, update, sort=sort, upsert=upsert,
            return_document=ReturnDocument.AFTER if after else ReturnDocument.BEFORE)
    while True:
        found = await collection.find_one(query, sort=sort)
        if found is None:
            if not upsert:
                return None
            result = await collection.update_one(query, update, upsert=True)
            if result.upserted_id is None:
                continue     # another writer created a match meanwhile: update that one instead
            return await collection.find_one({"_id": result.upserted_id}) if after else None
        result = await collection.update_one({**query, "_id": found["_id"]}, update)
        if result.matched_count:
            return await collection.find_one({"_id": found["_id"]}) if after else found


async def find_one_and_delete(collection: Any, query: dict[str, Any], *, sort: Any = None) -> dict | None:
    """`find_one_and_delete`: the deleted document (emulated as in `find_one_and_update`)."""
    if not _emulate_find_and_modify(collection):
        return await collection.find_one_and_delete(query, sort=sort)
    while True:
        found = await collection.find_one(query, sort=sort)
        if found is None:
            return None
        result = await collection.delete_one({**query, "_id": found["_id"]})
        if result.deleted_count:
            return found


async def retire_indexes(collection: Any, *names: str) -> list[str]:
    """Drop indexes a model no longer declares (replaced under a new name: an index's options cannot change
    in place); returns the ones that existed. Idempotent, so every start may call it."""
    existing = await collection.index_information()
    dropped = [name for name in names if name in existing]
    for name in dropped:
        await collection.drop_index(name)
    return dropped


def describe(url: str) -> str:
    """A database URL safe to print (credentials removed)."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
