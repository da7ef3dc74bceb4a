"""REST chat.* listings: threads, search, sync, mentioned/pinned/starred/deleted messages."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core import jsonutil
from core.errors import ApiError, MeteorError
from core.rest import RestRequest, Route
from plugins.messaging import schemas
from plugins.messaging.parsing import parse_date

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService

PAGED = {"paginated": True, "sort_fields": ("ts",)}


def listing(req: RestRequest, items: list[dict], total: int, key: str = "messages") -> dict[str, Any]:
    page = req.page
    assert page is not None
    shown = [page.project(d) for d in items]
    return {key: shown, "count": len(shown), "offset": page.offset, "total": total}


def routes(svc: MessagingService) -> list[Route]:
    q = svc.queries

    def threads_on(method: str) -> None:
        if not svc.setting("Threads_enabled", True):
            raise MeteorError("error-not-allowed", "Threads Disabled", {"method": method})

    async def thread_messages(req: RestRequest) -> dict[str, Any]:
        threads_on("getThreadMessages")
        parent = await svc.get_message(req.query["tmid"])
        if parent is None:
            raise MeteorError("error-invalid-message", "Invalid Message")
        if not await svc.can_access(req.user["_id"], parent["rid"]):
            raise MeteorError("error-not-allowed", "Not Allowed")
        page = req.page
        assert page is not None
        ascending = not page.sort or page.sort[0][1] > 0
        items, total = await q.thread(parent, page.offset, page.count, ascending)
        return listing(req, items, total)

    async def threads_list(req: RestRequest) -> dict[str, Any]:
        threads_on("getThreadsList")
        room = await svc.guard.readable_room(req.user, req.query["rid"], "getThreadsList")
        uid, kind, text = req.user["_id"], req.query.get("type"), req.query.get("text")
        tests: list[Callable[[dict], bool]] = []
        if kind == "following":
            tests.append(lambda d: uid in (d.get("replies") or ()))
        elif kind == "unread":
            sub = await svc.get_subscription(room["_id"], uid, {"tunread": 1}) or {}
            unread = set(sub.get("tunread") or ())
            tests.append(lambda d: d["_id"] in unread)
        if text:
            needle = text.lower()
            tests.append(lambda d: needle in (d.get("msg") or "").lower())
        page = req.page
        assert page is not None
        items, total = await q.threads(room, lambda d: all(t(d) for t in tests), page.offset, page.count)
        return listing(req, items, total, "threads")

    async def search(req: RestRequest) -> dict[str, Any]:
        room = await svc.guard.readable_room(req.user, req.query["roomId"], "messageSearch")
        page = req.page
        assert page is not None
        found = await q.search(room, req.user, req.query["searchText"], page.offset, page.count or 100)
        return {"messages": [page.project(d) for d in found]}

    async def sync(req: RestRequest) -> dict[str, Any]:
        query = req.query
        if not query.get("lastUpdate") and not query.get("type"):
            raise MeteorError("error-param-required", 'The "type" or "lastUpdate" parameters must be provided')
        room = await svc.guard.readable_room(req.user, query["roomId"], "messages/get")
        if query.get("lastUpdate"):
            try:
                since = parse_date(query["lastUpdate"], "lastUpdate")
            except MeteorError:
                raise MeteorError("error-lastUpdate-param-invalid",
                                  'The "lastUpdate" query parameter must be a valid date') from None
            return {"result": {"updated": await q.updated_since(room, since),
                               "deleted": await q.deleted_since(room["_id"], since)}}
        return {"result": await _cursor_page(svc, room, query)}

    def per_room(fetch: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def handler(req: RestRequest) -> dict[str, Any]:
            room = await svc.guard.readable_room(req.user, req.query["roomId"], method)
            page = req.page
            assert page is not None
            items, total = await fetch(room["_id"], req.user["_id"], page.offset, page.count)
            return listing(req, items, total)
        return handler

    async def deleted(req: RestRequest) -> dict[str, Any]:
        room = await svc.guard.readable_room(req.user, req.query["roomId"], "getDeletedMessages")
        try:
            since = parse_date(req.query["since"], "since")
        except MeteorError:
            raise ApiError('The "since" query parameter must be a valid date.', "error-invalid-date") from None
        docs = await q.deleted_since(room["_id"], since, {"_id": 1})
        page = req.page
        assert page is not None
        shown = docs[page.offset:page.offset + page.count] if page.count else docs[page.offset:]
        return {"messages": shown, "count": len(shown), "offset": page.offset, "total": len(docs)}

    return [
        Route("GET", "chat.getThreadMessages", thread_messages, query=schemas.THREAD_MESSAGES_QUERY, **PAGED),
        Route("GET", "chat.getThreadsList", threads_list, query=schemas.THREADS_LIST_QUERY, paginated=True,
              sort_fields=("tlm",)),
        Route("GET", "chat.search", search, query=schemas.SEARCH_QUERY, **PAGED),
        Route("GET", "chat.syncMessages", sync, query=schemas.SYNC_QUERY),
        Route("GET", "chat.getMentionedMessages", per_room(lambda rid, uid, o, c: q.mentioned(rid, uid, o, c),
                                                           "getMentionedMessages"),
              query=schemas.ROOM_QUERY, **PAGED),
        Route("GET", "chat.getPinnedMessages", per_room(lambda rid, uid, o, c: q.pinned(rid, o, c),
                                                        "getPinnedMessages"),
              query=schemas.ROOM_QUERY, **PAGED),
        Route("GET", "chat.getStarredMessages", per_room(lambda rid, uid, o, c: q.starred(rid, uid, o, c),
                                                         "getStarredMessages"),
              query=schemas.ROOM_QUERY, **PAGED),
        Route("GET", "chat.getDeletedMessages", deleted, query=schemas.DELETED_QUERY, **PAGED),
    ]


async def _cursor_page(svc: MessagingService, room: dict, query: dict) -> dict[str, Any]:
    """chat.syncMessages cursor form: `type` UPDATED or DELETED, paged by `next`/`previous` (epoch ms)."""
    count = query.get("count") or 20
    previous = query.get("previous")
    mark = parse_date(previous or query.get("next") or "0", "next")
    if query["type"] == "UPDATED":
        docs = await svc.queries.updated_page(room, mark, count, before=bool(previous))
        field, key = "_updatedAt", "updated"
    else:
        docs = await svc.queries.deleted_page(room["_id"], mark, count, before=bool(previous))
        field, key = "_deletedAt", "deleted"
    cursor = {"next": str(jsonutil.to_ms(docs[-1][field])) if docs else None,
              "previous": str(jsonutil.to_ms(docs[0][field])) if docs else None}
    return {key: docs, "cursor": cursor}
