"""History and listings (loadHistory, *.history, *.messages, threads, search, sync), all as bounded scans.

Visibility filters (hidden copies, hidden system types, thread replies) are applied to the documents a
window returns rather than added to the filter: an extra condition would stop the engine from using the
`{rid, ts}` index range (see `history`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from plugins.messaging.constants import MESSAGES
from plugins.messaging.history import Bounds, Scanner
from plugins.messaging.parsing import parse_search

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService

SEARCH_SCAN_LIMIT = 20_000   # messages a single search may read before it answers with what it found
UNREAD_CAP = 1000            # `unreadNotLoaded` counts this far; past it the client shows "1000+" anyway


def hidden_types(room: Mapping[str, Any], setting: Any) -> frozenset[str]:
    """Rocket.Chat's getHiddenSystemMessages: the room's own `sysMes` list wins over the global setting."""
    chosen = room.get("sysMes") if isinstance(room.get("sysMes"), list) else setting
    types = set(chosen or ())
    if "mute_unmute" in types:
        types |= {"user-muted", "user-unmuted"}
    if "subscription_role_changed" in types:
        types |= {"subscription-role-added", "subscription-role-removed"}
    if "room_archived" in types:
        types.add("room-archived")
    if "room_unarchived" in types:
        types.add("room-unarchived")
    return frozenset(types)


class MessageQueries:
    def __init__(self, service: MessagingService) -> None:
        self.s = service
        self._scanner: Scanner | None = None

    @property
    def scanner(self) -> Scanner:
        if self._scanner is None:
            self._scanner = Scanner(self.s.messages)
        return self._scanner

    def visible(self, room: Mapping[str, Any], show_threads: bool = True) -> Callable[[dict], bool]:
        hidden = hidden_types(room, self.s.setting("Hide_System_Messages", []))

        def accept(doc: dict) -> bool:
            if doc.get("_hidden") or (doc.get("t") and doc["t"] in hidden):
                return False
            return show_threads or not doc.get("tmid") or doc.get("tshow") is True
        return accept

    # -- room history ------------------------------------------------------------------------------------
    async def history(self, room: dict, *, latest: datetime | None = None, oldest: datetime | None = None,
                      inclusive: bool = False, offset: int = 0, count: int = 20, show_threads: bool = True,
                      unreads_since: datetime | None = None) -> dict[str, Any]:
        """Rocket.Chat's getChannelHistory / loadMessageHistory: newest first, with `firstUnread` and
        `unreadNotLoaded` when the caller's last-seen date is given."""
        accept = self.visible(room, show_threads)
        docs = await self.scanner.newest(Bounds.for_room(room), before=latest, before_incl=inclusive,
                                         after=oldest, after_incl=inclusive, need=offset + count, accept=accept)
        messages = docs[offset:offset + count]
        result: dict[str, Any] = {"messages": messages}
        if unreads_since is not None:
            result.update(await self._unreads(room, messages, unreads_since, accept))
        return result

    async def _unreads(self, room: dict, messages: list[dict], since: datetime, accept: Any) -> dict:
        """Unread messages older than the page: the first one, and how many (counted up to UNREAD_CAP)."""
        first = messages[-1] if messages else None
        if first is None or first["ts"] <= since:
            return {"unreadNotLoaded": 0}
        unread = await self.scanner.oldest(Bounds.for_room(room), after=since, before=first["ts"], need=UNREAD_CAP,
                                           accept=accept, projection={"msg": 0, "attachments": 0, "md": 0})
        out: dict[str, Any] = {"unreadNotLoaded": len(unread)}
        if unread:
            out["firstUnread"] = await self.s.get_message(unread[0]["_id"])
        return out

    async def next_messages(self, room: dict, end: datetime | None, limit: int) -> list[dict]:
        """loadNextMessages: the `limit` messages after `end`, oldest first."""
        return await self.scanner.oldest(Bounds.for_room(room), after=end, need=limit, accept=self.visible(room))

    async def surrounding(self, room: dict, message: dict, limit: int) -> dict[str, Any]:
        """loadSurroundingMessages: half the page before the message, the message, half after."""
        limit = max(limit - 1, 0)
        before_n, after_n = -(-limit // 2), limit // 2
        accept = self.visible(room)
        bounds = Bounds.for_room(room)
        before = await self.scanner.newest(bounds, before=message["ts"], need=before_n, accept=accept) \
            if before_n else []
        after = await self.scanner.oldest(bounds, after=message["ts"], need=after_n, accept=accept) \
            if after_n else []
        return {"messages": [*before, message, *after], "moreBefore": len(before) == before_n,
                "moreAfter": len(after) == after_n}

    async def missed(self, room: dict, start: datetime, limit: int = 500) -> list[dict]:
        """loadMissedMessages: what arrived after `start` (newest first, at most `limit`)."""
        return await self.scanner.newest(Bounds.for_room(room), after=start, need=limit,
                                         accept=self.visible(room))

    async def page(self, room: dict, offset: int, count: int, ascending: bool = False,
                   accept: Callable[[dict], bool] | None = None) -> list[dict]:
        """A page of the room in `ts` order (the *.messages listings)."""
        accept = accept or self.visible(room)
        need = offset + count if count else None
        bounds = Bounds.for_room(room)
        if ascending:
            docs = await self.scanner.oldest(bounds, need=need, accept=accept)
        else:
            docs = await self.scanner.newest(bounds, need=need, accept=accept)
        return docs[offset:offset + count] if count else docs[offset:]

    # -- selective listings (their own indexes) ----------------------------------------------------------
    async def _listed(self, query: dict, offset: int, count: int, sort: list | None = None) -> tuple[list, int]:
        docs = await self.s.messages.find(query).to_list(None)
        docs = [d for d in docs if not d.get("_hidden")]
        for field, direction in reversed(sort or [("ts", -1)]):
            docs.sort(key=lambda d, f=field: _sort_key(d.get(f)), reverse=direction < 0)
        return (docs[offset:offset + count] if count else docs[offset:]), len(docs)

    async def pinned(self, rid: str, offset: int, count: int) -> tuple[list, int]:
        return await self._listed({"rid": rid, "pinned": True}, offset, count)

    async def starred(self, rid: str, uid: str, offset: int, count: int) -> tuple[list, int]:
        return await self._listed({"starred._id": uid, "rid": rid}, offset, count)

    async def mentioned(self, rid: str, uid: str, offset: int, count: int) -> tuple[list, int]:
        return await self._listed({"mentions._id": uid, "rid": rid}, offset, count)

    async def by_ids(self, rid: str, ids: list[str], offset: int, count: int) -> tuple[list, int]:
        return await self._listed({"_id": {"$in": ids}, "rid": rid}, offset, count)

    async def thread(self, parent: dict, offset: int, count: int, ascending: bool = True) -> tuple[list, int]:
        bounds = Bounds.for_thread(parent)
        need = offset + count if count else None
        accept = self.visible({})
        if ascending:
            docs = await self.scanner.oldest(bounds, need=need, accept=accept)
        else:
            docs = await self.scanner.newest(bounds, need=need, accept=accept)
        total = parent.get("tcount") if isinstance(parent.get("tcount"), int) else len(docs)
        return (docs[offset:offset + count] if count else docs[offset:]), max(total, len(docs))

    async def threads(self, room: dict, accept: Callable[[dict], bool], offset: int, count: int) -> tuple[list, int]:
        """Thread parents of a room, most recent reply first (`{rid, tlm}` index: only parents have `tlm`)."""
        bounds = Bounds({"rid": room["_id"]}, "tlm", Bounds.for_room(room).floor)
        docs = await self.scanner.newest(bounds, after=bounds.floor, accept=lambda d: not d.get("_hidden")
                                         and accept(d))
        return (docs[offset:offset + count] if count else docs[offset:]), len(docs)

    async def search(self, room: dict, user: Mapping[str, Any], text: str, offset: int, count: int) -> list:
        query = parse_search(text, dict(user))
        visible = self.visible(room)

        def accept(doc: dict) -> bool:
            return not doc.get("t") and visible(doc) and query.predicate(doc)
        bounds = Bounds.for_room(room)
        scan = self.scanner.oldest if query.ascending else self.scanner.newest
        docs = await scan(bounds, after=query.after, before=query.before, need=offset + count, accept=accept,
                          budget=SEARCH_SCAN_LIMIT)
        return docs[offset:offset + count]

    # -- sync --------------------------------------------------------------------------------------------
    async def updated_since(self, room: dict, since: datetime) -> list[dict]:
        bounds = Bounds({"rid": room["_id"]}, "_updatedAt")
        docs = await self.scanner.newest(bounds, after=since, accept=lambda d: not d.get("_hidden"))
        docs.sort(key=lambda d: d["ts"], reverse=True)
        return docs

    async def updated_page(self, room: dict, mark: datetime, count: int, before: bool = False) -> list[dict]:
        """`count` messages changed after `mark` (or, `before`, just before it), in `_updatedAt` order."""
        bounds = Bounds({"rid": room["_id"]}, "_updatedAt", Bounds.for_room(room).floor)
        accept = (lambda d: not d.get("_hidden"))
        if before:
            docs = await self.scanner.newest(bounds, before=mark, need=count, accept=accept)
            return docs[::-1]
        return await self.scanner.oldest(bounds, after=mark, need=count, accept=accept)

    async def deleted_page(self, rid: str, mark: datetime, count: int, before: bool = False) -> list[dict]:
        cond = {"$lt": mark} if before else {"$gt": mark}
        query = {"__collection__": MESSAGES, "rid": rid, "_deletedAt": cond}
        docs = await self.s.trash.find(query, {"_id": 1, "_deletedAt": 1}).sort(
            "_deletedAt", -1 if before else 1).limit(count).to_list(None)
        return docs[::-1] if before else docs

    async def deleted_since(self, rid: str, since: datetime, projection: dict | None = None) -> list[dict]:
        query = {"__collection__": MESSAGES, "rid": rid, "_deletedAt": {"$gt": since}}
        return await self.s.trash.find(query, projection or {"_id": 1, "_deletedAt": 1}).sort(
            "_deletedAt", -1).to_list(None)

    async def files(self, room: dict, offset: int, count: int) -> tuple[list, int]:
        """Messages carrying a file, as upload-like documents (until the uploads service owns them)."""
        docs = await self.s.messages.find({"rid": room["_id"], "file._id": {"$gt": ""}}).to_list(None)
        docs = [d for d in docs if not d.get("_hidden") and isinstance(d.get("file"), dict)]
        docs.sort(key=lambda d: d["ts"], reverse=True)
        files = [file_view(d) for d in docs]
        return (files[offset:offset + count] if count else files[offset:]), len(files)


def file_view(message: dict) -> dict[str, Any]:
    f = message["file"]
    name = f.get("name") or ""
    return {"_id": f.get("_id"), "name": name, "type": f.get("type"), "size": f.get("size"),
            "rid": message["rid"], "userId": message["u"]["_id"], "uploadedAt": message["ts"],
            "typeGroup": (f.get("type") or "").split("/")[0] or None, "complete": True,
            "url": f"/file-upload/{f.get('_id')}/{name}", "user": message["u"],
            "_updatedAt": message.get("_updatedAt", message["ts"])}


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, "")
    if isinstance(value, datetime):
        return (1, value.timestamp())
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))
