"""Roles: create, update, delete, list, and who holds them (globally or in a room).

Global roles live in `users.roles`. The accounts service owns the `users` collection, but a user's roles
are authorization's concern (as in Rocket.Chat, where the authorization code writes them), so this module
updates that one field, and only through `$addToSet` / `$pull` on `roles`. Room-scoped roles
(owner, moderator, leader) live in the user's `rocketchat_subscription.roles` for that room, likewise.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core.context import random_id
from core.errors import MeteorError
from core.storage import find_one_and_update
from plugins.authorization.service import ROLES_CHANGED, AuthorizationService, now

SCOPES = ("Users", "Subscriptions")
USER_FIELDS = {"_id": 1, "username": 1, "name": 1, "status": 1, "active": 1, "type": 1, "roles": 1,
               "emails": 1, "avatarETag": 1}


class RoleService:
    def __init__(self, authz: AuthorizationService) -> None:
        self.authz = authz

    @property
    def coll(self) -> Any:
        return self.authz.roles

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        api = self.authz.api
        # Committed-change events come from StreamHub in changestream mode; the others always from here.
        await (api.emit_watch if event.startswith("watch.") else api.broker.emit)(event, payload)

    # -- reading --------------------------------------------------------------------------------
    async def get(self, role_id: str | None = None, name: str | None = None) -> dict[str, Any] | None:
        """By `_id`, or by name (Rocket.Chat's `findOneByIdOrName`)."""
        if role_id:
            return await self.coll.find_one({"_id": role_id})
        if name:
            return await self.coll.find_one({"$or": [{"_id": name}, {"name": name}]})
        return None

    async def list(self, since: datetime | None = None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"_updatedAt": {"$gt": since}} if since else {}
        return [d async for d in self.coll.find(query).sort("name", 1)]

    async def has_role(self, user_id: str, role: dict[str, Any], rid: str | None) -> bool:
        if role.get("scope") == "Subscriptions":
            if not rid:
                return False
            return await self.authz.subscriptions.count_documents(
                {"rid": rid, "u._id": user_id, "roles": role["_id"]}, limit=1) > 0
        return await self.authz.users.count_documents({"_id": user_id, "roles": role["_id"]}, limit=1) > 0

    async def users_in_role(self, role: dict[str, Any], rid: str | None, skip: int,
                            limit: int) -> tuple[list[dict[str, Any]], int]:
        users = self.authz.users
        if rid:
            # Room-scoped: holders are the subscriptions carrying the role (a global role given with a
            # room id means "members of that room who hold it globally").
            subs = self.authz.subscriptions.find({"rid": rid}, {"u._id": 1, "roles": 1})
            ids = [s["u"]["_id"] async for s in subs
                   if role.get("scope") != "Subscriptions" or role["_id"] in (s.get("roles") or ())]
            query: dict[str, Any] = {"_id": {"$in": ids}}
            if role.get("scope") != "Subscriptions":
                query["roles"] = role["_id"]
        elif role.get("scope") == "Subscriptions":
            ids = list({s["u"]["_id"] async for s in self.authz.subscriptions.find(
                {"roles": role["_id"]}, {"u._id": 1})})
            query = {"_id": {"$in": ids}}
        else:
            query = {"roles": role["_id"]}
        total = await users.count_documents(query)
        cursor = users.find(query, USER_FIELDS).sort("username", 1).skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return [u async for u in cursor], total

    # -- writing roles --------------------------------------------------------------------------
    async def _name_taken(self, name: str, except_id: str | None = None) -> bool:
        query: dict[str, Any] = {"$or": [{"_id": name}, {"name": name}]}
        if except_id:
            query = {"$and": [query, {"_id": {"$ne": except_id}}]}
        return await self.coll.count_documents(query, limit=1) > 0

    async def create(self, name: str, scope: str = "Users", description: str = "",
                     mandatory2fa: bool = False) -> dict[str, Any]:
        if scope not in SCOPES:
            raise MeteorError("error-invalid-scope", "Invalid scope")
        if await self._name_taken(name):
            raise MeteorError("error-duplicate-role-names-not-allowed", "Role name already exists")
        role = {"_id": random_id(), "name": name, "scope": scope, "description": description,
                "protected": False, "mandatory2fa": bool(mandatory2fa), "_updatedAt": now()}
        await self.coll.insert_one(role)
        await self.emit(ROLES_CHANGED, {"clientAction": "inserted", "role": role})
        return role

    async def update(self, role_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        role = await self.get(role_id)
        if role is None:
            raise MeteorError("error-invalid-roleId", "This role does not exist")
        if role.get("protected") and any(k in changes and changes[k] != role.get(k) for k in ("name", "scope")):
            raise MeteorError("error-role-protected", "Role is protected")
        if "scope" in changes and changes["scope"] not in SCOPES:
            raise MeteorError("error-invalid-scope", "Invalid scope")
        if "name" in changes and await self._name_taken(changes["name"], except_id=role_id):
            raise MeteorError("error-duplicate-role-names-not-allowed", "Role name already exists")
        fields = {k: changes[k] for k in ("name", "description", "scope", "mandatory2fa") if k in changes}
        role = await find_one_and_update(self.coll, {"_id": role_id},
                                         {"$set": {**fields, "_updatedAt": now()}}, after=True)
        await self.emit(ROLES_CHANGED, {"clientAction": "updated", "role": role})
        return role

    async def delete(self, role_id: str) -> None:
        role = await self.get(role_id)
        if role is None:
            raise MeteorError("error-invalid-roleId", "This role does not exist")
        if role.get("protected"):
            raise MeteorError("error-role-protected", "Cannot delete a protected role")
        _, holders = await self.users_in_role(role, None, 0, 1)
        if holders:
            raise MeteorError("error-role-in-use", "Cannot delete role because it's in use")
        await self.coll.delete_one({"_id": role_id})
        ts = now()
        await self.authz.db["rocketchat__trash"].replace_one(
            {"_id": role_id}, {"_id": role_id, "name": role["name"], "__collection__": "rocketchat_roles",
                               "_deletedAt": ts, "_updatedAt": ts}, upsert=True)
        await self.emit(ROLES_CHANGED, {"clientAction": "removed", "role": {"_id": role_id, "name": role["name"]}})

    # -- who holds a role -----------------------------------------------------------------------
    async def resolve(self, roles: list[str]) -> list[dict[str, Any]]:
        out = []
        for rid in roles:
            role = await self.get(name=rid) if isinstance(rid, str) and rid else None
            if role is None:
                raise MeteorError("error-invalid-role", "Invalid role", {"role": rid})
            out.append(role)
        return out

    async def change_user_roles(self, user_id: str, roles: list[str], scope: str | None,
                                add: bool) -> bool:
        """Add or remove roles; each role's own scope decides where it is stored. Emits `user.roleUpdate`
        per role that changed, plus `watch.users` / `watch.subscriptions` for the changed document."""
        if not isinstance(user_id, str) or not isinstance(roles, list):
            raise MeteorError("error-invalid-arguments", "Invalid arguments")
        user = await self.authz.users.find_one({"_id": user_id}, {"username": 1})
        if user is None:
            raise MeteorError("error-invalid-user", "Invalid user")
        resolved = await self.resolve(roles)
        room_roles = [r["_id"] for r in resolved if r.get("scope") == "Subscriptions"]
        user_roles = [r["_id"] for r in resolved if r.get("scope") != "Subscriptions"]
        if room_roles and not (isinstance(scope, str) and scope):
            raise MeteorError("error-invalid-scope", "A room-scoped role needs a room id", {"roles": room_roles})
        subs = self.authz.subscriptions
        if room_roles and add and not await subs.count_documents({"rid": scope, "u._id": user_id}, limit=1):
            raise MeteorError("error-invalid-user", "User is not part of given room", {"rid": scope})
        changed = await self._write(self.authz.users, {"_id": user_id}, user_roles, add)
        if changed is not None:
            diff = {"roles": changed.get("roles") or [], "_updatedAt": changed.get("_updatedAt")}
            await self.emit("watch.users", {"clientAction": "updated", "id": user_id, "diff": diff})
        sub = await self._write(subs, {"rid": scope, "u._id": user_id}, room_roles, add)
        if sub is not None:
            await self.emit("watch.subscriptions", {"clientAction": "updated", "subscription": sub})
        kind = "added" if add else "removed"
        for role_id in (user_roles if changed is not None else []) + (room_roles if sub is not None else []):
            event: dict[str, Any] = {"type": kind, "_id": role_id,
                                     "u": {"_id": user_id, "username": user.get("username")}}
            if role_id in room_roles:
                event["scope"] = scope
            await self.emit("user.roleUpdate", event)
        return True

    async def _write(self, coll: Any, query: dict[str, Any], roles: list[str], add: bool) -> dict | None:
        """`$addToSet`/`$pull` the roles; return the document after the change, or None if nothing changed."""
        if not roles:
            return None
        doc = await coll.find_one(query, {"roles": 1})
        held = set((doc or {}).get("roles") or ())
        if doc is None or (add and held.issuperset(roles)) or (not add and not held.intersection(roles)):
            return None
        update = {"$addToSet": {"roles": {"$each": roles}}} if add else {"$pull": {"roles": {"$in": roles}}}
        return await find_one_and_update(coll, {"_id": doc["_id"]},
                                         {**update, "$set": {"_updatedAt": now()}}, after=True)

    async def admin_count(self) -> int:
        return await self.authz.users.count_documents({"roles": "admin", "active": True})

    async def assign(self, actor: Any, role: dict[str, Any] | None, username: str, rid: str | None,
                     add: bool) -> dict[str, Any]:
        """`roles.addUserToRole` / `roles.removeUserFromRole` and their DDP twins, with Rocket.Chat's rules:
        only holders of `assign-admin-role` touch `admin`, the last active admin cannot be removed."""
        if role is None:
            raise MeteorError("error-role-not-found", "Role not found")
        user = await self.authz.users.find_one({"username": username}, {"_id": 1})
        if user is None:
            raise MeteorError("error-invalid-user", "Invalid user")
        if role["_id"] == "admin" and not await self.authz.check(actor, ["assign-admin-role"], None, True):
            raise MeteorError("error-action-not-allowed", "Assigning admin is not allowed")
        holds = await self.has_role(user["_id"], role, rid)
        if add and holds:
            raise MeteorError("error-user-already-in-role", "User already in role")
        if not add and not holds:
            raise MeteorError("error-user-not-in-role", "User is not in this role")
        if not add and role["_id"] == "admin" and await self.admin_count() <= 1:
            raise MeteorError("error-admin-required", "You need to have at least one admin")
        await self.change_user_roles(user["_id"], [role["_id"]], rid, add)
        return role
