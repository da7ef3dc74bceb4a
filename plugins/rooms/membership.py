"""Membership: join, add/invite, leave, kick, and the room-scoped roles (owner, moderator, leader)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from core.context import Context
from core.errors import MeteorError
from core.storage import find_one_and_delete, find_one_and_update
from plugins.rooms.constants import ROLE_UPDATE_EVENT, ROOM_ROLES, SUBSCRIPTIONS
from plugins.rooms.creation import new_subscription
from plugins.rooms.store import RoomStore, ctx_for, now, public_room, user_ref

JOIN_PREVENTED = "A Rocket.Chat App prevented the user from joining the room."
ROLE_PERMISSION = {"owner": "set-owner", "moderator": "set-moderator", "leader": "set-leader"}
ROLE_ARTICLE = {"owner": "an owner", "moderator": "a moderator", "leader": "a leader"}


def not_allowed(method: str) -> MeteorError:
    return MeteorError("error-not-allowed", "Not allowed", {"method": method})


def archived_error(room: Mapping[str, Any]) -> MeteorError:
    what = "private group" if room.get("t") == "p" else "channel"
    return MeteorError("error-room-archived", f"The {what}, {room.get('name')}, is archived")


class Membership:
    def __init__(self, store: RoomStore) -> None:
        self.store = store

    # -- adding ---------------------------------------------------------------------------------
    async def add_user(self, room: Mapping[str, Any], user: Mapping[str, Any],
                       inviter: Mapping[str, Any] | None = None, ctx: Context | None = None) -> bool:
        """Rocket.Chat's `addUserToRoom`: False when the user already was a member."""
        store = self.store
        if room["t"] not in ("c", "p"):
            raise MeteorError("error-cant-invite-for-direct-room", "Can't invite user to direct rooms",
                              {"method": "addUsersToRoom"})
        if await store.subscription(room["_id"], user["_id"]) is not None:
            return False
        ctx = ctx_for(inviter or user, ctx)
        await store.deny("pre_room_user_joined_prevent", JOIN_PREVENTED, room=public_room(room), user=dict(user),
                         inviter=dict(inviter) if inviter else None, ctx=ctx)
        # Rocket.Chat marks the new membership unread with a mention, so the room stands out.
        sub = new_subscription(room, user, ts=now(), open=True, alert=True, unread=1, userMentions=1,
                               groupMentions=0)
        try:
            await store.subs.insert_one(sub)
        except DuplicateKeyError:
            return False
        await store.emit_subscription("inserted", sub)
        fresh = await store.update_room(room["_id"], {"$inc": {"usersCount": 1}}) or room
        if inviter is not None:
            await store.system_message(room["_id"], "au", inviter, user["username"])
        else:
            await store.system_message(room["_id"], "uj", user, user["username"])
        store.notify("post_room_user_joined", room=public_room(fresh), user=dict(user),
                     inviter=dict(inviter) if inviter else None, ctx=ctx)
        return True

    async def join(self, room: Mapping[str, Any], user: Mapping[str, Any], join_code: str | None = None,
                   ctx: Context | None = None) -> bool:
        """Rocket.Chat's `Room.join` (joinRoom, channels.join)."""
        store = self.store
        if room["t"] not in ("c", "p"):
            raise not_allowed("joinRoom")
        if room.get("archived"):
            raise archived_error(room)
        if not await store.can_access(room, user):
            raise not_allowed("joinRoom")
        if room.get("joinCodeRequired") and join_code != room.get("joinCode") \
                and not await store.can(user, "join-without-join-code"):
            raise MeteorError("error-code-invalid", "Invalid Room Password", {"method": "joinRoom"})
        return await self.add_user(room, user, ctx=ctx)

    async def add_users(self, actor: Mapping[str, Any], room: Mapping[str, Any], usernames: list[str],
                        ctx: Context | None = None) -> bool:
        """Rocket.Chat's `addUsersToRoom` (channels.invite, groups.invite)."""
        store = self.store
        method = "addUsersToRoom"
        if room["t"] == "d":
            raise MeteorError("error-cant-invite-for-direct-room", "Can't invite user to direct rooms",
                              {"method": method})
        in_room = await store.subscription(room["_id"], actor["_id"]) is not None
        allowed = (in_room and await store.can(actor, "add-user-to-joined-room", room["_id"])) \
            or (room["t"] == "c" and await store.can(actor, "add-user-to-any-c-room")) \
            or (room["t"] == "p" and await store.can(actor, "add-user-to-any-p-room"))
        if not allowed:
            raise not_allowed(method)
        if room.get("archived"):
            raise archived_error(room)
        users = []
        for name in dict.fromkeys(usernames):
            found = await store.user_by_username(name)
            if found is None:
                raise MeteorError("error-user-not-found", "User not found", {"method": method})
            users.append(found)
        for user in users:
            if not await self.add_user(room, user, inviter=actor, ctx=ctx):
                await store.api.broker.emit("notify.ephemeralMessage", {
                    "uid": actor["_id"], "rid": room["_id"],
                    "message": {"msg": f"Username {user['username']} is already in here."}})
        return True

    # -- removing -------------------------------------------------------------------------------
    async def remove_user(self, room: Mapping[str, Any], user: Mapping[str, Any],
                          remover: Mapping[str, Any] | None = None, ctx: Context | None = None) -> None:
        """Rocket.Chat's `removeUserFromRoom`: system message, subscription gone, usersCount down."""
        store = self.store
        if remover is not None:
            await store.system_message(room["_id"], "ru", remover, user["username"])
        else:
            await store.system_message(room["_id"], "ul", user, user["username"])
        sub = await find_one_and_delete(store.subs, {"rid": room["_id"], "u._id": user["_id"]})
        if sub is None:
            return
        await store.to_trash(SUBSCRIPTIONS, [sub])
        await store.emit_subscription("removed", sub)
        fresh = await store.update_room(room["_id"], {"$inc": {"usersCount": -1}}) or room
        store.notify("post_room_user_left", room=public_room(fresh), user=dict(user),
                     remover=dict(remover) if remover else None, ctx=ctx_for(remover or user, ctx))

    async def _refuse_last_owner(self, rid: str, uid: str) -> None:
        sub = await self.store.subs.find_one({"rid": rid, "u._id": uid}, {"roles": 1})
        if "owner" in ((sub or {}).get("roles") or ()) and \
                await self.store.subs.count_documents({"rid": rid, "roles": "owner"}) == 1:
            raise MeteorError("error-you-are-last-owner",
                              "You are the last owner. Please set new owner before leaving the room.",
                              {"method": "leaveRoom"})

    async def leave(self, room: Mapping[str, Any], user: Mapping[str, Any], ctx: Context | None = None) -> None:
        """Rocket.Chat's `leaveRoom`."""
        store = self.store
        if room["t"] not in ("c", "p"):
            raise not_allowed("leaveRoom")
        if not await store.can(user, f"leave-{room['t']}"):
            raise not_allowed("leaveRoom")
        if await store.subscription(room["_id"], user["_id"]) is None:
            raise MeteorError("error-user-not-in-room", "You are not in this room", {"method": "leaveRoom"})
        await self._refuse_last_owner(room["_id"], user["_id"])
        await self.remove_user(room, user, ctx=ctx)

    async def kick(self, actor: Mapping[str, Any], room: Mapping[str, Any], target: Mapping[str, Any],
                   ctx: Context | None = None) -> None:
        """Rocket.Chat's `removeUserFromRoom` method (channels.kick, groups.kick)."""
        store = self.store
        method = "removeUserFromRoom"
        if room["t"] not in ("c", "p") or not await store.can(actor, "remove-user", room["_id"]):
            raise not_allowed(method)
        if not await store.can_access(room, actor):
            raise not_allowed(method)
        if await store.subscription(room["_id"], target["_id"]) is None:
            raise MeteorError("error-user-not-in-room", "User is not in this room", {"method": method})
        await self._refuse_last_owner(room["_id"], target["_id"])
        await self.remove_user(room, target, remover=actor, ctx=ctx)

    # -- room roles -----------------------------------------------------------------------------
    async def set_role(self, actor: Mapping[str, Any], room: Mapping[str, Any], target_id: str, role: str,
                       add: bool) -> None:
        """addRoomOwner/removeRoomOwner, ...Moderator, ...Leader."""
        store = self.store
        method = f"{'add' if add else 'remove'}Room{role.title()}"
        if role not in ROOM_ROLES:
            raise MeteorError("error-invalid-role", "Invalid role", {"method": method})
        if room["t"] not in ("c", "p") or not await store.can(actor, ROLE_PERMISSION[role], room["_id"]):
            raise not_allowed(method)
        target = await store.user(target_id)
        if target is None or not target.get("username"):
            raise MeteorError("error-invalid-user", "Invalid user", {"method": method})
        sub = await store.subscription(room["_id"], target["_id"])
        if sub is None:
            raise MeteorError("error-user-not-in-room", "User is not in this room", {"method": method})
        held = role in (sub.get("roles") or ())
        if add and held:
            raise MeteorError(f"error-user-already-{role}", f"User is already {ROLE_ARTICLE[role]}", {"method": method})
        if not add and not held:
            raise MeteorError(f"error-user-not-{role}", f"User is not {ROLE_ARTICLE[role]}", {"method": method})
        owners = {"rid": room["_id"], "roles": "owner"}
        if not add and role == "owner" and await store.subs.count_documents(owners) == 1:
            raise MeteorError("error-remove-last-owner",
                              "This is the last owner. Please set a new owner before removing this one.",
                              {"method": method})
        change = {"$addToSet": {"roles": role}} if add else {"$pull": {"roles": role}}
        sub = await find_one_and_update(store.subs, {"_id": sub["_id"]},
                                        {**change, "$set": {"_updatedAt": now()}}, after=True)
        await store.emit_subscription("updated", sub)
        kind = "added" if add else "removed"
        await store.system_message(room["_id"], f"subscription-role-{kind}", actor, target["username"],
                                   {"role": role})
        await store.api.broker.emit(ROLE_UPDATE_EVENT, {"type": kind, "_id": role, "u": user_ref(target),
                                                        "scope": room["_id"]})

    async def room_roles(self, rid: str) -> list[dict[str, Any]]:
        """getRoomRoles: the members holding a room role, by username."""
        cursor = self.store.subs.find({"rid": rid, "roles": {"$in": list(ROOM_ROLES)}},
                                      {"rid": 1, "u": 1, "roles": 1}).sort("u.username", 1)
        return [s async for s in cursor]
