"""Bounded history scans: pages of a room (or thread) read as a few `ts` windows, never as one open query.

The embedded engine reads every document a filter's index range covers and applies `limit` afterwards,
so `find({rid}).sort({ts: -1}).limit(50)` on a 100,000-message room reads 100,000 documents. A window
`{rid, ts: {$gte: lo, $lt: hi}}` reads only what lies in it. The first window is sized from the room's own
statistics (`msgs` over its lifetime from `ts` to `lm`) to hold about the page asked for; later windows grow
with the density actually seen, until the page is full or the range is exhausted. On MongoDB the same
filters are plain index range scans.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
MIN_SPAN = timedelta(seconds=1)
MAX_SPAN = timedelta(days=3650)
DEFAULT_SPAN = timedelta(hours=6)

Accept = Callable[[dict], bool]


def _all(_: dict) -> bool:
    return True


@dataclass
class Bounds:
    """A scan over documents whose `eq` fields match, ordered by `field` (a date), within optional limits.

    `floor` is the oldest date documents usually have (a room's creation): windows stop growing there and
    a last, open window picks up anything older. `anchor` is where the newest documents usually are (a
    room's last message): the first descending window starts from it when no upper limit is given.
    `gap` is the expected time between two documents, which sizes the first window.
    """

    eq: dict[str, Any]
    field: str = "ts"
    floor: datetime = EPOCH
    anchor: datetime | None = None
    gap: timedelta | None = None

    @classmethod
    def for_room(cls, room: dict, field: str = "ts") -> Bounds:
        created, last, count = room.get("ts"), room.get("lm"), room.get("msgs")
        gap = None
        if isinstance(created, datetime) and isinstance(last, datetime) and isinstance(count, int) and count > 0:
            gap = max((last - created) / count, timedelta(milliseconds=1))
        floor = created if isinstance(created, datetime) else EPOCH
        return cls({"rid": room["_id"]}, field, floor - timedelta(seconds=1), last if isinstance(last, datetime)
                   else None, gap)

    @classmethod
    def for_thread(cls, parent: dict) -> Bounds:
        created, last, count = parent.get("ts"), parent.get("tlm"), parent.get("tcount")
        gap = None
        if isinstance(created, datetime) and isinstance(last, datetime) and isinstance(count, int) and count > 0:
            gap = max((last - created) / count, timedelta(milliseconds=1))
        floor = created if isinstance(created, datetime) else EPOCH
        return cls({"tmid": parent["_id"]}, "ts", floor - timedelta(seconds=1),
                   last if isinstance(last, datetime) else None, gap)

    def first_span(self, need: int | None) -> timedelta:
        if self.gap is None or not need:
            return DEFAULT_SPAN
        return min(max(self.gap * need * 1.5, MIN_SPAN), MAX_SPAN)


def _grow(span: timedelta, seen: int, missing: int) -> timedelta:
    """Next window: sized from the density just seen, at least twice and at most sixteen times larger."""
    if seen:
        wanted = span * (missing / seen) * 1.25
        return min(max(wanted, span * 2), span * 16, MAX_SPAN)
    return min(span * 4, MAX_SPAN)


def _cond(lo: datetime | None, lo_incl: bool, hi: datetime | None, hi_incl: bool) -> dict[str, Any]:
    cond: dict[str, Any] = {}
    if lo is not None:
        cond["$gte" if lo_incl else "$gt"] = lo
    if hi is not None:
        cond["$lte" if hi_incl else "$lt"] = hi
    return cond


class Scanner:
    """Runs window scans on one collection; counts windows and documents read (for tests and the benchmark)."""

    def __init__(self, collection: Any) -> None:
        self.coll = collection
        self.windows = 0      # queries run
        self.read = 0         # documents those queries returned

    async def _window(self, b: Bounds, cond: dict, direction: int, projection: dict | None) -> list[dict]:
        query = {**b.eq, b.field: cond} if cond else dict(b.eq)
        docs = await self.coll.find(query, projection).sort(b.field, direction).to_list(None)
        self.windows += 1
        self.read += len(docs)
        return docs

    async def newest(self, b: Bounds, *, before: datetime | None = None, before_incl: bool = False,
                     after: datetime | None = None, after_incl: bool = False, need: int | None = None,
                     accept: Accept = _all, projection: dict | None = None,
                     budget: int | None = None) -> list[dict]:
        """Documents with `after < field < before`, newest first, until `need` of them are accepted (or
        `budget` documents were read)."""
        if need is None and (before is not None or after is not None):
            docs = await self._window(b, _cond(after, after_incl, before, before_incl), -1, projection)
            return [d for d in docs if accept(d)]
        out: list[dict] = []
        read = 0
        hi, hi_incl = before, before_incl
        top = before or b.anchor or datetime.now(UTC)
        if b.anchor is not None and top > b.anchor:
            top = b.anchor + timedelta(seconds=1)   # size windows from the newest message, not a far `before`
        span = b.first_span(need)
        while True:
            lo, lo_incl, last = top - span, True, False
            if after is not None and lo <= after:
                lo, lo_incl, last = after, after_incl, True
            elif lo <= b.floor:   # past the room's start: the last window reaches down to `after`, if any
                lo, lo_incl, last = after, after_incl, True
            docs = await self._window(b, _cond(lo, lo_incl, hi, hi_incl), -1, projection)
            if _take(docs, accept, out, need):
                return out
            read += len(docs)
            if last or lo is None or (budget is not None and read >= budget):
                return out
            span = _grow(span, len(docs), (need or 0) - len(out))
            hi, hi_incl, top = lo, False, lo

    async def oldest(self, b: Bounds, *, after: datetime | None = None, after_incl: bool = False,
                     before: datetime | None = None, before_incl: bool = False, need: int | None = None,
                     accept: Accept = _all, projection: dict | None = None,
                     budget: int | None = None) -> list[dict]:
        """Documents with `after < field < before`, oldest first, until `need` of them are accepted (or
        `budget` documents were read)."""
        if need is None and (before is not None or after is not None):
            docs = await self._window(b, _cond(after, after_incl, before, before_incl), 1, projection)
            return [d for d in docs if accept(d)]
        out: list[dict] = []
        read = 0
        lo, lo_incl = after, after_incl
        bottom = max(after or b.floor, b.floor)   # size windows from the room's start, not an ancient `after`
        ceiling = max(b.anchor or bottom, datetime.now(UTC)) + timedelta(minutes=5)
        span = b.first_span(need)
        while True:
            hi, hi_incl, last = bottom + span, False, False
            if before is not None and hi >= before:
                hi, hi_incl, last = before, before_incl, True
            elif hi >= ceiling:   # past now: the last window reaches up to `before`, if any
                hi, hi_incl, last = before, before_incl, True
            docs = await self._window(b, _cond(lo, lo_incl, hi, hi_incl), 1, projection)
            if _take(docs, accept, out, need):
                return out
            read += len(docs)
            if last or hi is None or (budget is not None and read >= budget):
                return out
            span = _grow(span, len(docs), (need or 0) - len(out))
            lo, lo_incl, bottom = hi, True, hi


def _take(docs: list[dict], accept: Accept, out: list[dict], need: int | None) -> bool:
    """Append the accepted documents of one window to `out`; True once `need` of them are there."""
    for doc in docs:
        if accept(doc):
            out.append(doc)
            if need is not None and len(out) >= need:
                return True
    return False
