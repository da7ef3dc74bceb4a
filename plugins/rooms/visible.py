"""Counting and finding a room's messages by what a member sees, over the `{rid, ts}` index.

"Not an edit-history copy" is `_hidden: {$ne: true}` and "not a system message" `t: {$exists: false}`; the
embedded database answers any `$ne` by scanning the whole message collection, so these read the room's time
window through the index and apply the two conditions here.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SHOWN_FIELDS = {"_id": 1, "rid": 1, "ts": 1, "_hidden": 1, "t": 1}


def shown(message: Mapping[str, Any], system: bool) -> bool:
    """Not an edit-history copy, and (unless `system`) not a system message."""
    return message.get("_hidden") is not True and (system or "t" not in message)


async def count_shown(messages: Any, rid: str, ts: dict[str, Any], *, system: bool = False, limit: int = 0) -> int:
    """How many messages of `rid` in the `ts` range a member sees (at most `limit`, when given)."""
    count = 0
    async for message in messages.find({"rid": rid, "ts": ts}, SHOWN_FIELDS):
        if shown(message, system):
            count += 1
            if count == limit:
                break
    return count


async def last_shown(messages: Any, rid: str, *, system: bool = False) -> dict[str, Any] | None:
    """The newest message of `rid` a member sees."""
    async for message in messages.find({"rid": rid}, SHOWN_FIELDS).sort("ts", -1).batch_size(20):
        if shown(message, system):
            return message
    return None
