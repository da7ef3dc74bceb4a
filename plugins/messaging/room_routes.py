"""REST message listings of rooms: `channels.*`, `groups.*`, `im.*`/`dm.*` history, messages and files.

The rooms service owns the rest of those prefixes; these routes only read `rocketchat_room` and
`rocketchat_subscription` to find the room and check that the caller may read it.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from core.errors import ApiError, MeteorError
from core.rest import RestRequest, Route
from plugins.messaging import schemas
from plugins.messaging.parsing import parse_date
from plugins.messaging.targets import TargetResolver

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService

KIND = {"channels": ("c", "channel"), "groups": ("p", "group")}
Finder = Callable[[RestRequest], Awaitable[dict]]


def forbidden() -> ApiError:
    return ApiError("unauthorized", status=403)


def _flag(value: Any) -> bool:
    return value is True or value == "true"


def routes(svc: MessagingService) -> list[Route]:
    direct = TargetResolver(svc)

    def finder(prefix: str) -> Finder:
        async def by_name(req: RestRequest) -> dict:
            rid, name = req.query.get("roomId"), req.query.get("roomName")
            if not rid and not name:
                raise MeteorError("error-roomid-param-not-provided", 'The parameter "roomId" or "roomName" is required')
            kind, noun = KIND[prefix]
            room = await svc.get_room(rid) if rid else await svc.rooms.find_one({"name": name})
            missing = MeteorError("error-room-not-found",
                                  f'The required "roomId" or "roomName" param provided does not match any {noun}')
            if room is None or room.get("t") != kind:
                raise missing
            if kind == "p":   # a private group is read by its members: the subscription is the access check
                if await svc.get_subscription(room["_id"], req.user["_id"], {"_id": 1}) is None:
                    raise missing
            elif not await svc.can_access(req.user["_id"], room["_id"]):
                raise forbidden()
            return room

        async def direct_room(req: RestRequest) -> dict:
            rid, username = req.query.get("roomId"), req.query.get("username")
            room = None
            if rid:
                room = await svc.get_room(rid)
            elif username:
                other = await svc.users.find_one({"username": username}, {"_id": 1})
                room = await direct.find_direct(req.user["_id"], other["_id"]) if other else None
            else:
                raise MeteorError("error-room-param-not-provided", 'Body param "roomId" or "username" is required')
            if room is None or room.get("t") != "d" or not await svc.can_access(req.user["_id"], room["_id"]):
                raise MeteorError("error-room-not-found", 'The required "roomId" or "username" param provided '
                                  "does not match any direct message")
            return room
        return by_name if prefix in KIND else direct_room

    def history(find: Finder) -> Callable[[RestRequest], Awaitable[dict]]:
        async def handler(req: RestRequest) -> dict[str, Any]:
            room = await find(req)
            q = req.query
            if room.get("t") == "c" and not await svc.has_permission(req.user, "preview-c-room") and \
                    await svc.get_subscription(room["_id"], req.user["_id"], {"_id": 1}) is None:
                raise forbidden()
            upper = int(svc.setting("API_Upper_Count_Limit", 100) or 100)
            count = min(q.get("count", 20) if q.get("count") is not None else 20, upper) or 20
            latest = parse_date(q["latest"], "latest") if q.get("latest") else None
            oldest = parse_date(q["oldest"], "oldest") if q.get("oldest") else None
            unreads = _flag(q.get("unreads"))
            result = await svc.queries.history(
                room, latest=latest, oldest=oldest, inclusive=_flag(q.get("inclusive")), offset=q.get("offset", 0),
                count=count, show_threads=_flag(q.get("showThreadMessages")),
                unreads_since=oldest if unreads else None)
            if unreads:
                result.setdefault("unreadNotLoaded", 0)
            return result
        return handler

    def messages(find: Finder) -> Callable[[RestRequest], Awaitable[dict]]:
        async def handler(req: RestRequest) -> dict[str, Any]:
            room = await find(req)
            if room.get("t") == "c":
                if not await svc.has_permission(req.user, "view-c-room"):
                    raise forbidden()
                if await svc.has_permission(req.user, "view-joined-room") and \
                        await svc.get_subscription(room["_id"], req.user["_id"], {"_id": 1}) is None:
                    raise forbidden()
            page = req.page
            assert page is not None
            items, total = await _room_messages(svc, room, req)
            shown = [page.project(d) for d in items]
            return {"messages": shown, "count": len(shown), "offset": page.offset, "total": total}
        return handler

    def files(find: Finder) -> Callable[[RestRequest], Awaitable[dict]]:
        async def handler(req: RestRequest) -> dict[str, Any]:
            room = await find(req)
            page = req.page
            assert page is not None
            items, total = await svc.queries.files(room, page.offset, page.count)
            name, group = req.query.get("name"), req.query.get("typeGroup")
            if name or group:
                items = [f for f in items if (not name or name.lower() in (f["name"] or "").lower())
                         and (not group or f.get("typeGroup") == group)]
            return {"files": items, "count": len(items), "offset": page.offset, "total": total}
        return handler

    listed = {"paginated": True, "sort_fields": ("ts",), "filter_fields": FILTER_FIELDS}
    out: list[Route] = []
    for prefix in ("channels", "groups", "im", "dm"):
        find = finder(prefix)
        named = prefix in KIND
        out += [
            Route("GET", f"{prefix}.history", history(find),
                  query=schemas.HISTORY_QUERY if named else schemas.IM_HISTORY_QUERY),
            Route("GET", f"{prefix}.messages", messages(find),
                  query=schemas.MESSAGES_QUERY if named else schemas.IM_MESSAGES_QUERY, **listed),
            Route("GET", f"{prefix}.files", files(find),
                  query=schemas.FILES_QUERY if named else schemas.IM_FILES_QUERY, paginated=True),
        ]
    return out


FILTER_FIELDS = ("_id", "t", "tmid", "u._id", "u.username", "pinned", "alias")


def _path(doc: dict, path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _matches(doc: dict, flt: dict[str, Any]) -> bool:
    for key, want in flt.items():
        have = _path(doc, key)
        if isinstance(want, dict):
            if have not in want["$in"]:
                return False
        elif have != want:
            return False
    return True


async def _room_messages(svc: MessagingService, room: dict, req: RestRequest) -> tuple[list[dict], int]:
    """*.messages: the `mentionIds` / `starredIds` / `pinned` filters use their indexes; otherwise a page of
    the room in `ts` order. `query=` conditions (whitelisted, equality only) are applied to what is read."""
    page, q = req.page, req.query
    assert page is not None
    ascending = bool(page.sort) and page.sort[0][1] > 0
    flt = page.filter
    mention_ids = [i for i in (q.get("mentionIds") or "").split(",") if i][:100]
    starred_ids = [i for i in (q.get("starredIds") or "").split(",") if i][:100]
    pinned = _flag(q.get("pinned"))
    if mention_ids or starred_ids or pinned:
        if pinned:
            docs = await svc.messages.find({"rid": room["_id"], "pinned": True}).to_list(None)
        elif mention_ids:
            docs = await svc.messages.find({"mentions._id": {"$in": mention_ids}, "rid": room["_id"]}).to_list(None)
        else:
            docs = await svc.messages.find({"starred._id": {"$in": starred_ids}, "rid": room["_id"]}).to_list(None)
        docs = [d for d in docs if not d.get("_hidden") and _matches(d, flt)
                and (not mention_ids or any(m.get("_id") in mention_ids for m in d.get("mentions") or ()))
                and (not starred_ids or any(s.get("_id") in starred_ids for s in d.get("starred") or ()))]
        docs.sort(key=lambda d: d["ts"], reverse=not ascending)
        shown = docs[page.offset:page.offset + page.count] if page.count else docs[page.offset:]
        return shown, len(docs)
    items = await svc.queries.page(room, page.offset, page.count, ascending,
                                   accept=lambda d: not d.get("_hidden") and _matches(d, flt))
    total = room.get("msgs")
    if flt or not isinstance(total, int):
        total = await svc.messages.count_documents({"rid": room["_id"]}) if not flt else len(items)
    return items, max(total, page.offset + len(items))
