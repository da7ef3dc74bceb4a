"""User management: create, update, delete, activate. Every write emits `watch.users` (Rocket.Chat's
DatabaseWatcher event) so realtime consumers see it; creations go through `pre_user_created_prevent`."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from core.context import Context, random_id
from core.errors import ApiError, MeteorError
from plugins.accounts.passwords import generate_password
from plugins.accounts.service import AccountsService, email_ci, now, username_ci
from plugins.accounts.views import without_services

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
APP_PREVENTED = "A Rocket.Chat App prevented the user creation."


def unavailable(value: str, field: str) -> MeteorError:
    return MeteorError("error-field-unavailable", f"{value} is already in use :(", {"field": field})


class UserStore:
    def __init__(self, service: AccountsService) -> None:
        self.service = service

    @property
    def api(self) -> Any:
        return self.service.api

    @property
    def coll(self) -> Any:
        return self.service.coll

    # -- validation -----------------------------------------------------------------------------------
    def check_username(self, username: str) -> None:
        pattern = str(self.service.setting("UTF8_User_Names_Validation", "[0-9a-zA-Z-_.]+"))
        try:
            ok = re.fullmatch(pattern, username) is not None
        except re.error:
            ok = re.fullmatch(r"[0-9a-zA-Z-_.]+", username) is not None
        if not ok:
            raise MeteorError("error-invalid-username", f"Invalid username {username}", {"field": "username"})

    @staticmethod
    def check_email(email: str) -> None:
        if not EMAIL_RE.match(email):
            raise MeteorError("error-invalid-email", f"Invalid email {email}", {"field": "email"})

    async def ensure_available(self, username: str | None, email: str | None, exclude: str | None = None) -> None:
        if username:
            doc = await self.coll.find_one(username_ci(username), {"_id": 1})
            if doc and doc["_id"] != exclude:
                raise unavailable(username, "username")
        if email:
            doc = await self.coll.find_one(email_ci(email), {"_id": 1})
            if doc and doc["_id"] != exclude:
                raise unavailable(email, "email")

    # -- create ---------------------------------------------------------------------------------------
    async def create(self, data: Mapping[str, Any], ctx: Context, *, password: str | None = None,
                     user_id: str | None = None, check_hooks: bool = True) -> dict[str, Any]:
        """Insert a user. `data` carries Rocket.Chat fields (username, name, email, roles, active, ...)."""
        username = data.get("username")
        email = data.get("email")
        if username is not None:
            self.check_username(username)
        if email is not None:
            self.check_email(email)
        await self.ensure_available(username, email)
        ts = now()
        doc: dict[str, Any] = {
            "_id": user_id or random_id(), "createdAt": ts, "_updatedAt": ts, "type": data.get("type", "user"),
            "username": username, "name": data.get("name") or username,
            "emails": [{"address": email, "verified": bool(data.get("verified"))}] if email else [],
            "active": data.get("active", True), "roles": list(data.get("roles") or ["user"]),
            "status": "offline", "statusConnection": "offline", "statusDefault": "online", "utcOffset": 0,
            "requirePasswordChange": bool(data.get("requirePasswordChange")), "settings": {},
        }
        for key in ("nickname", "bio", "statusText", "customFields", "appId"):
            if data.get(key) is not None:
                doc[key] = data[key]
        if username is None:
            del doc["username"]
        if check_hooks:
            denial = await self.api.hooks.first_deny("pre_user_created_prevent", user=dict(doc), ctx=ctx)
            if denial is not None:
                raise MeteorError("error-app-prevented", denial.reason or APP_PREVENTED)
        services: dict[str, Any] = {}
        if password is not None:
            services["password"] = {"bcrypt": await self.service.passwords.hash_plain(password)}
        try:
            await self.coll.insert_one({**doc, "services": services})
        except DuplicateKeyError:
            raise unavailable(username or email or "", "username") from None
        await self.api.emit_watch("watch.users", {"clientAction": "inserted", "id": doc["_id"], "data": doc})
        self.api.hooks.notify("post_user_created", user=dict(doc), ctx=ctx)
        return doc

    # -- update ---------------------------------------------------------------------------------------
    async def update(self, user_id: str, fields: Mapping[str, Any], unset: tuple[str, ...] = ()) -> dict | None:
        """Set `fields` (dotted paths allowed), emit the diff, return the new document without services."""
        update: dict[str, Any] = {"$set": {**fields, "_updatedAt": now()}}
        if unset:
            update["$unset"] = {k: "" for k in unset}
        res = await self.coll.update_one({"_id": user_id}, update)
        if res.matched_count == 0:
            return None
        diff = {k: v for k, v in update["$set"].items() if not k.startswith("services")}
        event: dict[str, Any] = {"clientAction": "updated", "id": user_id, "diff": diff}
        if unset:
            event["unset"] = {k: 1 for k in unset}
        await self.api.emit_watch("watch.users", event)
        return await self.service.get_user(user_id)

    async def set_password(self, user_id: str, password: str) -> None:
        hashed = await self.service.passwords.hash_plain(password)
        await self.coll.update_one({"_id": user_id}, {"$set": {"services.password.bcrypt": hashed,
                                                               "_updatedAt": now()}})

    async def set_active(self, user_id: str, active: bool) -> dict | None:
        user = await self.update(user_id, {"active": active})
        if user is not None and not active:
            # Deactivation ends every session; personal access tokens stay but are refused while inactive.
            hashes = await self.service.revoke_all(user_id, keep_pats=True)
            await self.api.broker.emit("user.forceLogout", {"userId": user_id, "tokenHashes": hashes})
        return user

    async def delete(self, user: Mapping[str, Any]) -> None:
        uid = user["_id"]
        await self.coll.delete_one({"_id": uid})
        await self.api.broker.emit("user.forceLogout", {"userId": uid})
        await self.api.emit_watch("watch.users", {"clientAction": "removed", "id": uid})
        await self.api.broker.emit("user.deleted", {"userId": uid, "user": without_services(user)})

    # -- bootstrap ------------------------------------------------------------------------------------
    async def ensure_rocket_cat(self) -> None:
        ts = now()
        doc = {"_id": "rocket.cat", "username": "rocket.cat", "name": "Rocket.Cat", "type": "bot",
               "active": True, "roles": ["bot"], "status": "online", "statusConnection": "online",
               "statusDefault": "online", "utcOffset": 0, "emails": [], "avatarOrigin": "local",
               "createdAt": ts, "_updatedAt": ts}
        try:
            await self.coll.update_one({"_id": "rocket.cat"}, {"$setOnInsert": doc}, upsert=True)
        except DuplicateKeyError:  # another process inserted it first, or a human took the name
            pass

    async def ensure_admin(self, env: Mapping[str, str], out: Any) -> None:
        """First start: create the admin account from ORBITCHAT_ADMIN_USER / _PASSWORD (/ _EMAIL), or with a
        generated password printed once."""
        if await self.service.has_admin():
            return
        username = env.get("ORBITCHAT_ADMIN_USER") or "admin"
        given = env.get("ORBITCHAT_ADMIN_PASSWORD")
        password = given or generate_password()
        email = env.get("ORBITCHAT_ADMIN_EMAIL") or None
        ctx = Context.internal()
        existing = await self.service.find_by_username(username)
        try:
            if existing is not None:
                await self.update(existing["_id"], {"roles": sorted(set(existing.get("roles") or []) | {"admin"})})
                await self.set_password(existing["_id"], password)
            else:
                await self.create({"username": username, "name": "Administrator", "email": email,
                                   "verified": True, "roles": ["admin", "user"]}, ctx, password=password,
                                  check_hooks=False)
        except ApiError as exc:
            if await self.service.has_admin():  # another process won the race
                return
            raise RuntimeError(f"could not create the admin account {username!r}: {exc.message}") from exc
        if given:
            print(f"OrbitChat admin account: {username} (password from ORBITCHAT_ADMIN_PASSWORD)", file=out,
                  flush=True)
        else:
            print(f"OrbitChat admin account: {username} / {password} (change it after first login)", file=out,
                  flush=True)
