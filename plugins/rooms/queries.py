"""Read-only views: room lists, member lists, counters."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.rest import Page
from plugins.rooms.constants import MESSAGES
from plugins.rooms.store import RoomStore, public_room
from plugins.rooms.visible import count_shown


class Queries:
    def __init__(self, store: RoomStore) -> None:
        self.store = store

    async def page(self, coll: Any, query: dict[str, Any], page: Page,
                    default_sort: list[tuple[str, int]]) -> tuple[list[dict[str, Any]], int]:
        total = await coll.count_documents(query)
        cursor = coll.find(query).sort(page.sort or default_sort).skip(page.offset)
        if page.count:
            cursor = cursor.limit(page.count)
        return [d async for d in cursor], total

    async def subscribed_rids(self, uid: str, kinds: tuple[str, ...]) -> list[str]:
        cursor = self.store.subs.find({"u._id": uid, "t": {"$in": list(kinds)}}, {"rid": 1})
        return [s["rid"] async for s in cursor]

    async def list_rooms(self, user: Mapping[str, Any], kind: str, page: Page, joined_only: bool) -> dict[str, Any]:
        """channels.list (every public room for holders of view-c-room), channels.list.joined, groups.list,
        im.list. Client filters (`query=`) are whitelisted equality tests; the type is always ours."""
        store = self.store
        query: dict[str, Any] = {**page.filter, "t": kind}
        if joined_only or not await store.can(user, "view-c-room"):
            rids = await self.subscribed_rids(user["_id"], (kind,))
            if not rids:
                return {"items": [], "total": 0}
            query["_id"] = {"$in": rids}
        items, total = await self.page(store.rooms, query, page, [("name", 1)] if kind != "d" else [("_id", 1)])
        return {"items": [page.project(public_room(r)) for r in items], "total": total}

    async def members(self, room: Mapping[str, Any], page: Page, text: str | None = None,
                      status: list[str] | None = None) -> dict[str, Any]:
        """A page of members with their user documents. Without filters the page is cut from the
        subscriptions (sorted by username) and only that page's users are read."""
        store, rid = self.store, room["_id"]
        direction = dict(page.sort or []).get("username", 1)
        if not text and not status:
            total = await store.subs.count_documents({"rid": rid})
            cursor = store.subs.find({"rid": rid}, {"u._id": 1}).sort("u.username", direction).skip(page.offset)
            if page.count:
                cursor = cursor.limit(page.count)
            ids = [s["u"]["_id"] async for s in cursor]
            found = {u["_id"]: u for u in await store.users_by_ids(ids)}
            return {"members": [found[i] for i in ids if i in found], "total": total}
        # Filtered: the room's members are read (by id, in chunks) and matched here. The same query in the
        # database (`active: {$ne: false}`, an `$or` of two regexes) scans every user on the embedded one.
        ids = [s["u"]["_id"] async for s in store.subs.find({"rid": rid}, {"u._id": 1})]
        pattern = re.compile(re.escape(text), re.IGNORECASE) if text else None
        statuses = set(status or ())
        found = [u for u in await store.users_by_ids(ids)
                 if u.get("active") is not False and (not statuses or u.get("status") in statuses)
                 and (pattern is None or any(pattern.search(str(u.get(k) or "")) for k in ("username", "name")))]
        found.sort(key=lambda u: str(u.get("username") or ""), reverse=direction == -1)
        end = page.offset + page.count if page.count else None
        return {"members": found[page.offset:end], "total": len(found)}

    async def counters(self, room: Mapping[str, Any], uid: str, admin: bool) -> dict[str, Any]:
        """channels/groups/im.counters."""
        store = self.store
        sub = await store.subscription(room["_id"], uid)
        lm = room.get("lm") or room.get("_updatedAt")
        out: dict[str, Any] = {"joined": False, "members": None, "unreads": None, "unreadsFrom": None,
                               "msgs": None, "latest": None, "userMentions": None}
        member = sub is not None and (room["t"] == "d" or sub.get("open"))
        if member:
            since = sub.get("ls") or sub.get("ts")
            if room["t"] == "d":
                out["unreads"] = sub.get("unread", 0)
            else:
                out["unreads"] = await count_shown(store.db[MESSAGES], room["_id"], {"$gte": since, "$lte": lm},
                                                   system=True)
            out.update(unreadsFrom=since, userMentions=sub.get("userMentions", 0), joined=True)
        if admin or member:
            out.update(msgs=room.get("msgs", 0), latest=lm, members=room.get("usersCount", 0))
        return out
