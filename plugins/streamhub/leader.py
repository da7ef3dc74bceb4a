"""A leader lock in the database: exactly one holder at a time; taken over when the holder stops renewing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError


class LeaderLock:
    def __init__(self, coll: Any, name: str, holder: str, ttl: float) -> None:
        self.coll = coll
        self.name = name
        self.holder = holder
        self.ttl = ttl

    async def acquire(self) -> bool:
        """Take or renew the lock. A holder that stopped renewing for `ttl` seconds has lost it."""
        now = datetime.now(UTC)
        try:
            result = await self.coll.update_one(
                {"_id": self.name, "$or": [{"holder": self.holder}, {"expiresAt": {"$lt": now}}]},
                {"$set": {"holder": self.holder, "expiresAt": now + timedelta(seconds=self.ttl), "renewedAt": now}},
                upsert=True)
        except DuplicateKeyError:
            return False     # someone else holds a live lock
        return result.matched_count == 1 or result.upserted_id is not None

    async def release(self) -> None:
        await self.coll.delete_one({"_id": self.name, "holder": self.holder})
