"""REST users.*: create, register, info, list, update, updateOwnBasicInfo, delete, setActiveStatus."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import ApiError, MeteorError
from core.rest import RestRequest, Route
from plugins.accounts import schemas
from plugins.accounts.passwords import HEX_DIGEST, digest, generate_password
from plugins.accounts.service import AccountsService
from plugins.accounts.users import UserStore
from plugins.accounts.views import LIST_FIELDS, info_view, without_services

PERMISSIONS = [
    {"_id": "create-user", "roles": ["admin"]},
    {"_id": "view-d-room", "roles": ["admin", "user", "bot", "app", "guest"]},
    {"_id": "view-outside-room", "roles": ["admin", "owner", "moderator", "user"]},
    {"_id": "view-full-other-user-info", "roles": ["admin"]},
    {"_id": "view-other-user-channels", "roles": ["admin"]},
    {"_id": "edit-other-user-info", "roles": ["admin"]},
    {"_id": "edit-other-user-password", "roles": ["admin"]},
    {"_id": "edit-other-user-active-status", "roles": ["admin"]},
    {"_id": "assign-roles", "roles": ["admin"]},
    {"_id": "delete-user", "roles": ["admin"]},
    {"_id": "user-generate-access-token", "roles": ["admin"]},
    {"_id": "create-personal-access-tokens", "roles": ["admin", "user"]},
]
NOT_FOUND = 'The required "userId" or "username" param provided does not match any users'
LAST_ADMIN = "Leaving the app without admins is not allowed"


def not_allowed(reason: str) -> MeteorError:
    return MeteorError("error-action-not-allowed", reason)


class UserLookup:
    """Shared by the users.* route groups: resolve `userId | username | user` to a document."""

    def __init__(self, service: AccountsService) -> None:
        self.service = service

    async def find(self, params: Mapping[str, Any], raw: bool = False) -> dict[str, Any] | None:
        if params.get("userId"):
            doc = await self.service.raw(params["userId"])
            return doc if raw or doc is None else without_services(doc)
        name = params.get("username") or params.get("user")
        return await self.service.find_by_username(name, raw=raw) if name else None

    async def target(self, req: RestRequest, params: Mapping[str, Any], raw: bool = False) -> dict[str, Any]:
        """The user named in `params`, or the caller when none is named."""
        if not any(params.get(k) for k in ("userId", "username", "user")):
            doc = await self.service.raw(req.user["_id"]) if raw else dict(req.user)
            if doc is None:
                raise MeteorError("error-invalid-user", NOT_FOUND)
            return doc
        doc = await self.find(params, raw)
        if doc is None:
            raise MeteorError("error-invalid-user", NOT_FOUND)
        return doc


class UserRoutes:
    def __init__(self, service: AccountsService, store: UserStore) -> None:
        self.service = service
        self.store = store
        self.lookup = UserLookup(service)

    @property
    def api(self) -> Any:
        return self.service.api

    def routes(self) -> list[Route]:
        list_opts = {"paginated": True, "filter_fields": ("username", "name", "active", "type", "roles", "status"),
                     "sort_fields": ("username", "name", "createdAt", "status", "active", "type", "lastLogin",
                                     "_updatedAt")}
        return [
            Route("POST", "users.create", self.create, permission="create-user", body=schemas.CREATE_BODY),
            Route("POST", "users.register", self.register, auth=False, body=schemas.REGISTER_BODY),
            Route("GET", "users.info", self.info, query=schemas.USER_QUERY),
            Route("GET", "users.list", self.list, permission="view-d-room", **list_opts),
            Route("POST", "users.update", self.update, permission="edit-other-user-info", body=schemas.UPDATE_BODY),
            Route("POST", "users.updateOwnBasicInfo", self.update_own, body=schemas.OWN_INFO_BODY),
            Route("POST", "users.delete", self.delete, permission="delete-user", body=schemas.DELETE_BODY),
            Route("POST", "users.setActiveStatus", self.set_active, permission="edit-other-user-active-status",
                  body=schemas.ACTIVE_BODY),
        ]

    async def _check_roles(self, req: RestRequest, roles: list[str] | None) -> None:
        if roles is None or set(roles) <= {"user"}:
            return
        if not await self.api.has_permission(req.user, "assign-roles"):
            raise not_allowed("Assigning roles is not allowed")
        known = self.api.db["rocketchat_roles"]
        if await known.find_one({}, {"_id": 1}) is not None:
            found = {d["_id"] async for d in known.find({"_id": {"$in": roles}}, {"_id": 1})}
            missing = [r for r in roles if r not in found]
            if missing:
                raise MeteorError("error-invalid-role", f"Invalid role {missing[0]}")

    async def create(self, req: RestRequest) -> dict[str, Any]:
        body = req.body
        await self._check_roles(req, body.get("roles"))
        password = body.get("password")
        if body.get("setRandomPassword") or not password:
            if not body.get("setRandomPassword"):
                raise ApiError("must have required property 'password'", "invalid-params")
            password = generate_password()
        user = await self.store.create(body, req.ctx, password=password)
        return {"user": user}

    async def register(self, req: RestRequest) -> dict[str, Any]:
        if req.ctx.user is not None:
            raise ApiError("Logged in users can not register again.")
        mode = self.service.setting("Accounts_RegistrationForm", "Public")
        if mode == "Disabled":
            raise MeteorError("error-user-registration-disabled", "User registration is disabled")
        if mode == "Secret URL":
            secret = str(self.service.setting("Accounts_RegistrationForm_SecretURL", "") or "")
            if not secret or req.body.get("secret") != secret:
                raise MeteorError("error-user-registration-secret",
                                  "User registration is only allowed via Secret URL")
        default_roles = str(self.service.setting("Accounts_Registration_AuthenticationServices_Default_Roles",
                                                 "user") or "user")
        roles = [r.strip() for r in default_roles.split(",") if r.strip()] or ["user"]
        body = req.body
        data = {"username": body["username"], "email": body["email"], "name": body.get("name") or body["username"],
                "roles": roles, "customFields": body.get("customFields")}
        if body.get("reason"):
            data["reason"] = body["reason"]
        user = await self.store.create(data, req.ctx, password=body["pass"])
        return {"user": user}

    async def info(self, req: RestRequest) -> dict[str, Any]:
        user = await self.lookup.find(req.query)
        if user is None:
            raise ApiError("User not found.")
        full = user["_id"] == req.user["_id"] or await self.api.has_permission(req.user, "view-full-other-user-info")
        return {"user": info_view(user, full)}

    async def list(self, req: RestRequest) -> dict[str, Any]:
        if self.service.setting("API_Apply_permission_view-outside-room_on_users-list", False) and \
                not await self.api.has_permission(req.user, "view-outside-room"):
            raise ApiError("User does not have the permissions required for this action [error-unauthorized]",
                           status=403)
        page = req.page
        full = await self.api.has_permission(req.user, "view-full-other-user-info")
        coll = self.service.coll
        total = await coll.count_documents(page.filter)
        cursor = coll.find(page.filter, {k: 1 for k in LIST_FIELDS}).sort(page.sort or [("username", 1)])
        cursor = cursor.skip(page.offset)
        if page.count:
            cursor = cursor.limit(page.count)
        users = [page.project(info_view(d, full)) async for d in cursor]
        return {"users": users, "count": len(users), "offset": page.offset, "total": total}

    async def _guard_last_admin(self, user: Mapping[str, Any]) -> None:
        if "admin" in (user.get("roles") or []):
            others = await self.service.coll.count_documents({"roles": "admin", "active": {"$ne": False},
                                                              "_id": {"$ne": user["_id"]}})
            if others == 0:
                raise not_allowed(LAST_ADMIN)

    async def update(self, req: RestRequest) -> dict[str, Any]:
        target = await self.service.raw(req.body["userId"])
        if target is None:
            raise MeteorError("error-invalid-user", NOT_FOUND)
        data = dict(req.body["data"])
        if "password" in data and not await self.api.has_permission(req.user, "edit-other-user-password"):
            raise not_allowed("Editing user password is not allowed")
        if "active" in data and data["active"] != target.get("active", True):
            if not await self.api.has_permission(req.user, "edit-other-user-active-status"):
                raise not_allowed("Edit user active status is not allowed")
            if not data["active"]:
                await self._guard_last_admin(target)
        if "roles" in data:
            await self._check_roles(req, data["roles"])
            if "admin" not in data["roles"]:
                await self._guard_last_admin(target)
        user = await self.apply_profile(target, data)
        return {"user": user}

    async def apply_profile(self, target: Mapping[str, Any], data: Mapping[str, Any],
                            keep_token: str | None = None) -> dict[str, Any]:
        uid = target["_id"]
        username, email = data.get("username"), data.get("email")
        if username is not None and username != target.get("username"):
            self.store.check_username(username)
        else:
            username = None
        current_emails = {e.get("address", "").lower() for e in target.get("emails") or []}
        if email is not None and email.lower() not in current_emails:
            self.store.check_email(email)
        else:
            email = None
        await self.store.ensure_available(username, email, exclude=uid)
        fields: dict[str, Any] = {}
        for key in ("name", "nickname", "bio", "statusText", "roles", "customFields", "requirePasswordChange"):
            if key in data:
                fields[key] = data[key]
        if username:
            fields["username"] = username
        if email:
            fields["emails"] = [{"address": email, "verified": bool(data.get("verified"))}]
        elif "verified" in data and target.get("emails"):
            fields["emails.0.verified"] = bool(data["verified"])
        user = await self.store.update(uid, fields) if fields else without_services(target)
        if "active" in data and data["active"] != target.get("active", True):
            user = await self.store.set_active(uid, bool(data["active"]))
        password = data.get("password") or (generate_password() if data.get("setRandomPassword") else None)
        if password:
            await self.store.set_password(uid, password)
            hashes = await self.service.revoke_all(uid, keep_pats=True, keep=keep_token)
            await self.api.broker.emit("user.forceLogout", {"userId": uid, "tokenHashes": hashes})
        if "name" in fields or username:
            await self.api.broker.emit("user.nameChanged", {"_id": uid, "name": user.get("name"),
                                                            "username": user.get("username")})
        return user

    async def update_own(self, req: RestRequest) -> dict[str, Any]:
        data = dict(req.body["data"])
        if "realname" in data and "name" not in data:
            data["name"] = data.pop("realname")
        data.pop("realname", None)
        me = await self.service.raw(req.user["_id"])
        if me is None:
            raise MeteorError("error-invalid-user", NOT_FOUND)
        setting = self.service.setting
        gates = (("name", "Accounts_AllowRealNameChange", "Editing user's real name is not allowed"),
                 ("username", "Accounts_AllowUsernameChange", "Editing username is not allowed"),
                 ("email", "Accounts_AllowEmailChange", "Changing email is not allowed"),
                 ("newPassword", "Accounts_AllowPasswordChange", "Changing password is not allowed"),
                 ("statusText", "Accounts_AllowUserStatusMessageChange", "Changing status message is not allowed"))
        for key, sid, reason in gates:
            if key in data and not setting(sid, True) and data[key] != me.get(key):
                raise not_allowed(reason)
        stored = (me.get("services") or {}).get("password", {}).get("bcrypt")
        email_change = "email" in data and data["email"].lower() not in {
            e.get("address", "").lower() for e in me.get("emails") or []}
        needs_password = bool(stored) and ("newPassword" in data or email_change)
        if needs_password and not await self._current_password_ok(data.get("currentPassword"), stored):
            raise MeteorError("error-invalid-password", "Invalid password")
        changes = {k: v for k, v in data.items() if k in ("name", "username", "email", "nickname", "bio",
                                                          "statusText")}
        if "newPassword" in data:
            changes["password"] = data["newPassword"]
        if req.body.get("customFields") is not None:
            changes["customFields"] = req.body["customFields"]
        user = await self.apply_profile(me, changes, keep_token=req.ctx.token_hash)
        return {"user": user}

    async def _current_password_ok(self, given: str | None, stored: str) -> bool:
        if not given:
            return False
        check = self.service.passwords.check
        if HEX_DIGEST.match(given.lower()) and await check(given.lower(), stored):
            return True   # the Rocket.Chat web client sends SHA-256(currentPassword)
        return await check(digest(given), stored)

    async def delete(self, req: RestRequest) -> dict[str, Any]:
        target = await self.lookup.find(req.body, raw=True)
        if target is None:
            raise MeteorError("error-invalid-user", NOT_FOUND)
        await self._guard_last_admin(target)
        await self.store.delete(target)
        return {}

    async def set_active(self, req: RestRequest) -> dict[str, Any]:
        target = await self.service.raw(req.body["userId"])
        if target is None:
            raise MeteorError("error-invalid-user", NOT_FOUND)
        active = req.body["activeStatus"]
        if not active:
            await self._guard_last_admin(target)
        await self.store.set_active(target["_id"], active)
        return {"user": {"_id": target["_id"], "active": active}}
