"""The login flow shared by REST `login` and the DDP `login` method: password, resume token, or a
credential another plugin authenticates through `provide_authentication`; failed-login throttling.

Unknown user and wrong password fail identically (same error, one bcrypt comparison each). Client values
reach MongoDB only as plain strings (the REST and DDP schemas guarantee it).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from core.context import Context
from core.errors import ApiError, meteor_error
from plugins.accounts.passwords import HEX_DIGEST, digest
from plugins.accounts.service import AccountsService, Session, aware
from plugins.accounts.throttle import FailedLogins
from plugins.accounts.views import without_services

LOGGED_OUT = "You've been logged out by the server. Please log in again."
BAD_CREDENTIALS = "Something went wrong. Please check your credentials."


class LoginError(ApiError):
    """REST: 401 `{"status":"error","error":code,"message":reason}`; DDP: Meteor.Error(code, reason)."""

    status = 401

    def __init__(self, code: Any, reason: str, rest_code: Any = None, rest_reason: str | None = None,
                 details: dict | None = None) -> None:
        super().__init__(rest_reason or reason, None, details=details)
        self.code = code
        self.reason = reason
        self.rest_code = code if rest_code is None else rest_code

    def rest_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": False, "status": "error", "error": self.rest_code,
                                "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body

    def ddp_error(self) -> dict[str, Any]:
        return meteor_error(self.code, self.reason, self.details)


def bad_credentials() -> LoginError:
    return LoginError(403, BAD_CREDENTIALS, "Unauthorized", "Unauthorized")


def not_activated() -> LoginError:
    return LoginError("error-user-is-not-activated", "User is not activated")


def logged_out() -> LoginError:
    return LoginError(403, LOGGED_OUT)


class LoginFlow:
    def __init__(self, service: AccountsService) -> None:
        self.service = service
        self.failed = FailedLogins()

    @property
    def api(self) -> Any:
        return self.service.api

    # -- throttling -----------------------------------------------------------------------------------
    def _limits(self) -> tuple[bool, bool, bool]:
        s = self.service.setting
        on = bool(s("Block_Multiple_Failed_Logins_Enabled", True))
        return on, on and bool(s("Block_Multiple_Failed_Logins_By_User", True)), \
            on and bool(s("Block_Multiple_Failed_Logins_By_Ip", True))

    def _ip_exempt(self, ip: str | None) -> bool:
        raw = str(self.service.setting("Block_Multiple_Failed_Logins_Ip_Whitelist", "") or "")
        return bool(ip) and ip in {p.strip() for p in raw.split(",") if p.strip()}

    def check_blocked(self, user_key: str | None, ip: str | None) -> None:
        _, by_user, by_ip = self._limits()
        s = self.service.setting
        if by_ip and not self._ip_exempt(ip) and self.failed.blocked(
                "ip", ip, int(s("Block_Multiple_Failed_Logins_Attempts_Until_Block_By_Ip", 50)),
                float(s("Block_Multiple_Failed_Logins_Time_To_Unblock_By_Ip_In_Minutes", 5))):
            self.failed.failure("ip", ip)
            raise LoginError("error-login-blocked-for-ip", "Login has been temporarily blocked For IP")
        if by_user and self.failed.blocked(
                "user", user_key, int(s("Block_Multiple_Failed_Logins_Attempts_Until_Block_by_User", 10)),
                float(s("Block_Multiple_Failed_Logins_Time_To_Unblock_By_User_In_Minutes", 5))):
            self.failed.failure("user", user_key)
            self.failed.failure("ip", ip)
            raise LoginError("error-login-blocked-for-user", "Login has been temporarily blocked For User")

    def _failed(self, user_key: str | None, ip: str | None) -> None:
        self.failed.failure("user", user_key)
        self.failed.failure("ip", ip)

    def _succeeded(self, user_key: str | None, ip: str | None) -> None:
        self.failed.success("user", user_key)
        self.failed.success("ip", ip)

    # -- entry point ----------------------------------------------------------------------------------
    async def login(self, credentials: Mapping[str, Any], ctx: Context) -> Session:
        """`credentials` in the DDP form: `{resume}`, `{user:{username|email|id}, password}`, or anything
        else for `provide_authentication`."""
        if "resume" in credentials:
            session = await self._resume(credentials["resume"], ctx)
        elif "password" in credentials and isinstance(credentials.get("user"), Mapping):
            session = await self._password(credentials["user"], credentials["password"], ctx)
        else:
            session = await self._provided(credentials, ctx)
        login_ctx = dataclasses.replace(ctx, user=session.user, token_hash=session.token_hash)
        self.api.hooks.notify("post_user_logged_in", user=session.user, ctx=login_ctx)
        return session

    async def _password(self, selector: Mapping[str, Any], password: Any, ctx: Context) -> Session:
        user_key = _selector_key(selector)
        self.check_blocked(user_key, ctx.ip)
        pw_digest = _password_digest(password)
        user = await self._find(selector)
        stored = ((user or {}).get("services") or {}).get("password", {}).get("bcrypt") if user else None
        ok = await self.service.passwords.check(pw_digest or "", stored if pw_digest else None)
        if not ok or user is None:
            self._failed(user_key, ctx.ip)
            raise bad_credentials()
        if user.get("active") is False:
            self._failed(user_key, ctx.ip)
            raise not_activated()
        self._succeeded(user_key, ctx.ip)
        return await self.service.issue_token(user, "password", touch=True)

    async def _find(self, selector: Mapping[str, Any]) -> dict | None:
        svc = self.service
        if isinstance(selector.get("id"), str):
            return await svc.raw(selector["id"])
        if isinstance(selector.get("username"), str):
            return await svc.find_by_username(selector["username"], raw=True)
        if isinstance(selector.get("email"), str):
            return await svc.find_by_email(selector["email"], raw=True)
        return None

    async def _resume(self, token: Any, ctx: Context) -> Session:
        self.check_blocked(None, ctx.ip)
        found = await self.service.user_by_resume(token) if isinstance(token, str) else None
        if found is None:
            self._failed(None, ctx.ip)
            raise logged_out()
        user, hashed, entry = found
        if user.get("active") is False:
            raise not_activated()
        expires = aware(entry["when"]) + self.service.token_lifetime
        await self.service.touch_login(user["_id"])
        return Session(without_services(user), token, hashed, expires, "resume", user)

    async def _provided(self, credentials: Mapping[str, Any], ctx: Context) -> Session:
        user_key = credentials.get("username") if isinstance(credentials.get("username"), str) else None
        user_key = user_key.lower() if user_key else None
        self.check_blocked(user_key, ctx.ip)
        answer = await self.api.hooks.first_result("provide_authentication", credentials=dict(credentials),
                                                   ctx=ctx)
        if not isinstance(answer, Mapping):
            raise LoginError(400, "Unrecognized options for login request")
        if answer.get("error"):
            self._failed(user_key, ctx.ip)
            raise LoginError(answer["error"], str(answer.get("reason") or answer["error"]))
        user = await self.service.raw(answer.get("user_id"))
        if user is None:
            self._failed(user_key, ctx.ip)
            raise bad_credentials()
        if user.get("active") is False:
            raise not_activated()
        self._succeeded(user_key, ctx.ip)
        kind = answer.get("type") or next((k for k, v in credentials.items() if v is True), "custom")
        return await self.service.issue_token(user, str(kind), touch=True)


def _selector_key(selector: Mapping[str, Any]) -> str | None:
    for key in ("username", "email", "id"):
        value = selector.get(key)
        if isinstance(value, str) and value:
            return f"{key}:{value.lower()}"
    return None


def _password_digest(password: Any) -> str | None:
    """A Meteor password is `{digest, algorithm:'sha-256'}` or a plain string (hashed here the same way)."""
    if isinstance(password, str):
        return digest(password)
    if isinstance(password, Mapping) and password.get("algorithm") == "sha-256":
        value = password.get("digest")
        if isinstance(value, str) and HEX_DIGEST.match(value.lower()):
            return value.lower()
    return None


async def logout(flow: LoginFlow, user: Mapping[str, Any], token_hash: str | None, ctx: Context,
                 connection_id: str | None = None) -> None:
    """Revoke the caller's token and tell everyone: `accounts.logout`; a REST logout also asks websocket
    sessions resumed with that token to close (`user.forceLogout`)."""
    uid = user["_id"]
    if token_hash:
        await flow.service.revoke_token(uid, token_hash)
    broker = flow.api.broker
    await broker.emit("accounts.logout", {"userId": uid, "connectionId": connection_id, "tokenHash": token_hash})
    if connection_id is None and token_hash:
        await broker.emit("user.forceLogout", {"userId": uid, "tokenHashes": [token_hash]})
    flow.api.hooks.notify("post_user_logged_out", user=dict(user), ctx=ctx)
