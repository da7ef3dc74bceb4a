"""Team links on rooms: `teamId` / `teamMain` / `teamDefault` on a room, with `teamId` / `teamMain` copied
onto its members' subscriptions. The teams service owns teams; it asks for these through the broker."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from plugins.rooms.store import RoomStore, now, public_room

ROOM_TEAM_FIELDS = ("teamId", "teamMain", "teamDefault")
SUBSCRIPTION_TEAM_FIELDS = ("teamId", "teamMain")


async def set_team(store: RoomStore, rids: Iterable[str], team_id: str | None,
                   main: bool = False) -> list[dict[str, Any]]:
    """Put rooms in a team (`main`: as its main room), or take them out of any team (`team_id` None).
    Returns the rooms changed, as clients see them; unknown ids are skipped."""
    out = []
    for rid in dict.fromkeys(r for r in rids if isinstance(r, str) and r):
        if team_id:
            fields: dict[str, Any] = {"teamId": team_id, **({"teamMain": True} if main else {})}
            room_update: dict[str, Any] = {"$set": fields}
            sub_update: dict[str, Any] = {"$set": dict(fields)}
        else:
            room_update = {"$unset": {f: "" for f in ROOM_TEAM_FIELDS}}
            sub_update = {"$unset": {f: "" for f in SUBSCRIPTION_TEAM_FIELDS}}
        room = await store.update_room(rid, room_update)
        if room is None:
            continue
        ts = now()
        sub_update["$set"] = {**sub_update.get("$set", {}), "_updatedAt": ts}
        await store.subs.update_many({"rid": rid}, sub_update)
        store.announce_room_subscriptions(rid)
        out.append(public_room(room) or {})
    return out


async def set_team_default(store: RoomStore, rid: str, is_default: bool) -> dict[str, Any] | None:
    """Mark a team room as one every team member joins (`teamDefault`)."""
    return public_room(await store.update_room(rid, {"$set": {"teamDefault": bool(is_default)}}))
