"""`mentions` and `channels` of a message: `@user`, `@all`, `@here` and `#channel`, resolved to documents."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from plugins.messaging.parsing import GROUP_MENTIONS

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService

MAX_REFERENCES = 100   # names looked up per message; more is noise, not a mention


async def resolve_references(s: MessagingService, text: str, user: Mapping[str, Any],
                             room: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rocket.Chat's beforeSave mention pass. Usernames are resolved against `users` (unknown names are
    not mentions); `@all`/`@here` count only for senders holding `mention-all`/`mention-here`."""
    if not text or ("@" not in text and "#" not in text):
        return {"mentions": [], "channels": []}
    parser = s.parser
    names = parser.usernames(text)[:MAX_REFERENCES]
    mentions: list[dict[str, Any]] = []
    for group in GROUP_MENTIONS:
        if group in names and await s.has_permission(user, f"mention-{group}", room.get("_id")):
            mentions.append({"_id": group, "username": group, "type": "user"})
    wanted = [n for n in names if n not in GROUP_MENTIONS]
    if wanted:
        found = {}
        async for doc in s.users.find({"username": {"$in": wanted}}, {"_id": 1, "username": 1, "name": 1}):
            found[doc["username"]] = doc
        for name in wanted:
            doc = found.get(name)
            if doc is not None:
                ref = {"_id": doc["_id"], "username": doc["username"], "type": "user"}
                if doc.get("name") is not None:
                    ref["name"] = doc["name"]
                mentions.append(ref)
    channels: list[dict[str, Any]] = []
    channel_names = parser.channel_names(text)[:MAX_REFERENCES]
    if channel_names:
        cursor = s.rooms.find({"name": {"$in": channel_names}}, {"_id": 1, "name": 1, "t": 1})
        by_name = {doc["name"]: doc async for doc in cursor if doc.get("t") in ("c", "p")}
        channels = [{"_id": by_name[n]["_id"], "name": n} for n in channel_names if n in by_name]
    return {"mentions": mentions, "channels": channels}
