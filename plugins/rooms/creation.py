"""Creating rooms: channels and private groups (`createRoom`), direct messages (`createDirectRoom`)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from core.context import Context, random_id
from core.errors import MeteorError
from plugins.rooms.names import duplicate_name, valid_room_name
from plugins.rooms.store import RoomStore, ctx_for, now, public_room, user_ref

CREATE_PREVENTED = "A Rocket.Chat App prevented the room creation."


def new_subscription(room: Mapping[str, Any], user: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Rocket.Chat's `createWithRoomAndUser` document."""
    sub: dict[str, Any] = {
        "_id": random_id(), "open": False, "alert": False, "unread": 0, "userMentions": 0, "groupMentions": 0,
        "ts": room["ts"], "rid": room["_id"], "name": room.get("name"), "fname": room.get("fname"),
        "t": room["t"], "u": user_ref(user), "_updatedAt": now(),
    }
    if room.get("customFields"):
        sub["customFields"] = room["customFields"]
    for key in ("teamId", "teamMain"):   # a member of a team room sees the team on the subscription too
        if room.get(key):
            sub[key] = room[key]
    sub.update(extra)
    return sub


def invalid_user(method: str) -> MeteorError:
    return MeteorError("error-invalid-user", "Invalid user", {"method": method})


class Creation:
    def __init__(self, store: RoomStore) -> None:
        self.store = store

    # -- channels and groups ------------------------------------------------------------------------
    async def create(self, owner: Mapping[str, Any], kind: str, name: str, members: list[str], *,
                     read_only: bool = False, exclude_self: bool = False, extra: dict[str, Any] | None = None,
                     custom_fields: dict[str, Any] | None = None, ctx: Context | None = None) -> dict[str, Any]:
        store = self.store
        if kind not in ("c", "p"):
            raise MeteorError("error-invalid-type", "Invalid room type")
        if not owner.get("username"):
            raise MeteorError("error-invalid-user", "Invalid user", {"function": "RocketChat.createRoom"})
        name = await valid_room_name(store, name)
        members = list(dict.fromkeys(m.removeprefix("@") for m in members if m))
        if not exclude_self and owner["username"] not in members:
            members.append(owner["username"])
        extra = dict(extra or {})
        if extra.get("broadcast"):
            read_only = True
            extra.pop("reactWhenReadOnly", None)
        ts = now()
        room: dict[str, Any] = {"_id": random_id(), "fname": name, "_updatedAt": ts, **extra, "name": name, "t": kind,
                                "msgs": 0, "usersCount": 0, "u": user_ref(owner), "ts": ts, "ro": bool(read_only)}
        if custom_fields:
            room["customFields"] = dict(custom_fields)
        ctx = ctx_for(owner, ctx)
        await store.deny("pre_room_created_prevent", CREATE_PREVENTED,
                         room={**public_room(room), "_USERNAMES": list(members)}, ctx=ctx)
        try:
            await store.rooms.insert_one(room)
        except DuplicateKeyError:
            raise duplicate_name(name, False) from None
        await store.emit_room("inserted", room)
        await self._subscribe_members(room, owner, members, ts, ctx)
        room = await store.room(room["_id"]) or room
        store.notify("post_room_created", room=public_room(room), ctx=ctx)
        return room

    async def _subscribe_members(self, room: dict[str, Any], owner: Mapping[str, Any], members: list[str],
                                 ts: Any, ctx: Context) -> None:
        store = self.store
        check_joins = store.api.hooks.has_implementations("pre_room_user_joined_prevent")
        subs = []
        for member in await store.users_by_usernames(members):
            is_owner = member["_id"] == owner["_id"]
            if check_joins and not is_owner:
                denial = await store.api.hooks.first_deny("pre_room_user_joined_prevent", room=public_room(room),
                                                         user=dict(member), inviter=dict(owner), ctx=ctx)
                if denial is not None:
                    continue   # Rocket.Chat skips a member a before-add callback refuses
            extra: dict[str, Any] = {"open": True}
            if is_owner:
                extra.update(ls=ts, roles=["owner"])
            subs.append(new_subscription(room, member, **extra))
        if not subs:
            return
        await store.subs.insert_many(subs, ordered=False)
        for sub in subs:
            await store.emit_subscription("inserted", sub)
        await store.update_room(room["_id"], {"$inc": {"usersCount": len(subs)}})

    # -- direct messages --------------------------------------------------------------------------
    async def create_direct(self, me: Mapping[str, Any], usernames: list[str], exclude_self: bool = False,
                            ctx: Context | None = None) -> dict[str, Any]:
        """Rocket.Chat's `createDirectMessage`: returns the room with `rid`; an existing one is reused."""
        store = self.store
        method = "createDirectMessage"
        if not me.get("username"):
            raise invalid_user(method)
        names = [u.removeprefix("@") for u in usernames if isinstance(u, str) and u.strip()]
        names = list(dict.fromkeys(n.strip() for n in names))
        if not names:
            raise invalid_user(method)
        self_only = names == [me["username"]]
        if self_only and store.setting("Message_AllowDirectMessagesToYourself", True) is False:
            raise invalid_user(method)
        others = [n for n in names if n != me["username"]]
        found = {u["username"]: u for u in await store.users_by_usernames(others)}
        if len(found) != len(others):
            raise invalid_user(method)
        room_users = [found[n] for n in others] if exclude_self else [dict(me), *(found[n] for n in others)]
        if not room_users or (len(room_users) == 1 and room_users[0]["_id"] != me["_id"]):
            raise invalid_user(method)
        if not await store.can(me, "create-d"):
            existing = await self._find_direct(sorted(u["_id"] for u in room_users))
            if existing is not None and await store.can(me, "view-d-room"):
                return {**existing, "rid": existing["_id"]}
            raise MeteorError("error-not-allowed", "Not allowed", {"method": method})
        return await self.direct_room(room_users, creator=me, ctx=ctx)

    async def _find_direct(self, uids: list[str]) -> dict[str, Any] | None:
        if len(uids) == 2:
            return await self.store.rooms.find_one({"_id": "".join(uids)})
        return await self.store.rooms.find_one({"t": "d", "uids": {"$size": len(uids), "$all": uids}})

    async def direct_room(self, members: list[Mapping[str, Any]], creator: Mapping[str, Any],
                          ctx: Context | None = None) -> dict[str, Any]:
        store = self.store
        max_users = int(store.setting("DirectMesssage_maxUsers", 8) or 1)
        if len(members) > max_users:
            raise MeteorError("error-direct-message-max-user-exceeded",
                              f"You cannot add more than {max_users} users, including yourself to a direct message",
                              {"method": "createDirectRoom"})
        ordered = sorted(members, key=lambda u: (u.get("name") or u.get("username") or "").casefold())
        uids = sorted(u["_id"] for u in members)
        room = await self._find_direct(uids)
        ctx = ctx_for(creator, ctx)
        inserted = room is None
        if room is None:
            room = await self._insert_direct(ordered, uids, ctx)
        await self._subscribe_direct(room, ordered, creator)
        if inserted:
            room = await store.room(room["_id"]) or room
            store.notify("post_room_created", room=public_room(room), ctx=ctx)
        return {**room, "rid": room["_id"]}

    async def _insert_direct(self, ordered: list[Mapping[str, Any]], uids: list[str], ctx: Context) -> dict:
        store = self.store
        ts = now()
        room: dict[str, Any] = {"_id": "".join(uids) if len(uids) == 2 else random_id(), "t": "d",
                                "usernames": [u["username"] for u in ordered], "usersCount": len(uids), "msgs": 0,
                                "ts": ts, "uids": uids, "_updatedAt": ts}
        await store.deny("pre_room_created_prevent", CREATE_PREVENTED,
                         room={**room, "_USERNAMES": list(room["usernames"])}, ctx=ctx)
        try:
            await store.rooms.insert_one(room)
        except DuplicateKeyError:   # created concurrently by the other member
            return await store.rooms.find_one({"_id": room["_id"]}) or room
        await store.emit_room("inserted", room)
        return room

    async def _subscribe_direct(self, room: Mapping[str, Any], ordered: list[Mapping[str, Any]],
                                creator: Mapping[str, Any]) -> None:
        """One subscription per member, named after the other members; the creator's is (re)opened."""
        store = self.store
        rid = room["_id"]
        have = {s["u"]["_id"] async for s in store.subs.find({"rid": rid}, {"u._id": 1})}
        for member in ordered:
            uid = member["_id"]
            if uid in have:
                if uid == creator["_id"]:
                    sub = await store.subs.find_one({"rid": rid, "u._id": uid}, {"open": 1})
                    if sub is not None and not sub.get("open"):
                        await store.update_subscription(rid, uid, {"$set": {"open": True}})
                continue
            peers = [u for u in ordered if u["_id"] != uid] or [member]
            sub = new_subscription(room, member, open=uid == creator["_id"] or len(ordered) > 2,
                                   name=", ".join(u["username"] for u in peers),
                                   fname=", ".join(u.get("name") or u["username"] for u in peers))
            sub["u"] = {"_id": uid, "username": member["username"]}
            try:
                await store.subs.insert_one(sub)
            except DuplicateKeyError:
                continue
            await store.emit_subscription("inserted", sub)
