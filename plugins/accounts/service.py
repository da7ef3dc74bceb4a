"""Accounts logic: user lookups, login tokens (stored hashed), sessions. No web framework here."""
from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.security import hash_token, new_token
from plugins.accounts.models import User
from plugins.accounts.passwords import DEFAULT_ROUNDS, Passwords
from plugins.accounts.views import without_services

DAY = timedelta(days=1)
PAT = "personalAccessToken"
MAX_IDS = 1000
RECENT_MAX = 1024
RECENT_TTL = 1.0   # seconds


def now() -> datetime:
    return datetime.now(UTC)


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def username_ci(username: str) -> dict[str, Any]:
    """Case-insensitive exact username match (the value is escaped: no client regex reaches MongoDB)."""
    return {"username": {"$regex": f"^{re.escape(username)}$", "$options": "i"}}


def email_ci(email: str) -> dict[str, Any]:
    return {"emails.address": {"$regex": f"^{re.escape(email)}$", "$options": "i"}}


@dataclass
class Session:
    """A token just issued: the clear token goes to the client once; only its hash is stored."""

    user: dict[str, Any]
    token: str
    token_hash: str
    expires: datetime
    type: str
    raw: dict[str, Any] | None = None   # the stored document as of this login (services included)


class AccountsService:
    """Created with the plugin; `start(api)` binds it to the running kernel."""

    api: Any

    def __init__(self) -> None:
        self.passwords = Passwords()
        # (user id, token hash) -> (monotonic time, stored document) for the requests just authenticated:
        # `me` needs the services summary and reads it here instead of fetching the user a second time.
        self._recent: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    async def start(self, api: Any) -> None:
        self.api = api
        self.coll = User.get_pymongo_collection()
        rounds = int(api.env.get("ORBITCHAT_BCRYPT_ROUNDS") or DEFAULT_ROUNDS)
        if rounds != self.passwords.rounds:
            self.passwords = Passwords(rounds)

    # -- settings -------------------------------------------------------------------------------------
    def setting(self, sid: str, default: Any = None) -> Any:
        value = self.api.settings.get(sid)
        return default if value is None else value

    @property
    def token_lifetime(self) -> timedelta:
        days = self.setting("Accounts_LoginExpiration", 90)
        try:
            days = float(days)
        except (TypeError, ValueError):
            days = 90.0
        return DAY * (days if days > 0 else 90)

    # -- lookups --------------------------------------------------------------------------------------
    async def raw(self, user_id: str) -> dict[str, Any] | None:
        return await self.coll.find_one({"_id": user_id}) if isinstance(user_id, str) else None

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        doc = await self.coll.find_one({"_id": user_id}, {"services": 0}) if isinstance(user_id, str) else None
        return without_services(doc) if doc else None

    async def find_by_username(self, username: str, raw: bool = False) -> dict[str, Any] | None:
        if not isinstance(username, str) or not username:
            return None
        projection = None if raw else {"services": 0}
        doc = await self.coll.find_one({"username": username}, projection)
        if doc is None:
            doc = await self.coll.find_one(username_ci(username), projection)
        return doc if raw or doc is None else without_services(doc)

    async def find_by_email(self, email: str, raw: bool = False) -> dict[str, Any] | None:
        if not isinstance(email, str) or not email:
            return None
        projection = None if raw else {"services": 0}
        doc = await self.coll.find_one({"emails.address": email}, projection)
        if doc is None:
            doc = await self.coll.find_one(email_ci(email), projection)
        return doc if raw or doc is None else without_services(doc)

    async def get_users(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        ids = [i for i in ids if isinstance(i, str)][:MAX_IDS]
        if not ids:
            return []
        return [without_services(d) async for d in self.coll.find({"_id": {"$in": ids}}, {"services": 0})]

    async def has_admin(self) -> bool:
        return await self.coll.find_one({"roles": "admin"}, {"_id": 1}) is not None

    # -- tokens ---------------------------------------------------------------------------------------
    def token_expired(self, token: Mapping[str, Any], at: datetime | None = None) -> bool:
        if token.get("type") == PAT:
            return False   # personal access tokens live until removed
        when = token.get("when")
        if not isinstance(when, datetime):
            return True
        return aware(when) + self.token_lifetime <= (at or now())

    async def user_by_token(self, user_id: str, hashed_token: str) -> dict[str, Any] | None:
        """The active user owning this unexpired token, without `services` (what every request checks)."""
        if not isinstance(user_id, str) or not isinstance(hashed_token, str):
            return None
        doc = await self.coll.find_one({"_id": user_id, "services.resume.loginTokens.hashedToken": hashed_token})
        if doc is None or doc.get("active") is False:
            return None
        token = self._token(doc, hashed_token)
        if token is None or self.token_expired(token):
            return None
        if len(self._recent) >= RECENT_MAX:
            self._recent.clear()
        self._recent[(user_id, hashed_token)] = (time.monotonic(), doc)
        return without_services(doc)

    async def authenticated_raw(self, user_id: str, hashed_token: str | None) -> dict[str, Any] | None:
        """The stored document of a caller authenticated a moment ago (else read again)."""
        hit = self._recent.pop((user_id, hashed_token or ""), None)
        if hit is not None and time.monotonic() - hit[0] < RECENT_TTL:
            return hit[1]
        return await self.raw(user_id)

    async def user_by_resume(self, token: str) -> tuple[dict[str, Any], str, dict] | None:
        """Resolve a clear resume token to (raw user, hash, token entry); None when unknown or expired."""
        if not isinstance(token, str) or not token:
            return None
        hashed = hash_token(token)
        doc = await self.coll.find_one({"services.resume.loginTokens.hashedToken": hashed})
        if doc is None:
            return None
        entry = self._token(doc, hashed)
        if entry is None or self.token_expired(entry):
            return None
        return doc, hashed, entry

    @staticmethod
    def _token(doc: Mapping[str, Any], hashed: str) -> dict | None:
        tokens = ((doc.get("services") or {}).get("resume") or {}).get("loginTokens") or []
        for t in tokens:
            if isinstance(t, dict) and t.get("hashedToken") == hashed:
                return t
        return None

    async def issue_token(self, user: Mapping[str, Any], login_type: str, extra: dict | None = None,
                          touch: bool = False) -> Session:
        """Create a token and store its hash (with `lastLogin` when `touch`) in one write; expired tokens
        the user still carries are pruned by a second write only when there are some."""
        token = new_token()
        hashed = hash_token(token)
        when = now()
        entry = {"when": when, "hashedToken": hashed, **(extra or {})}
        update: dict[str, Any] = {"$push": {"services.resume.loginTokens": entry}}
        if touch:
            update["$set"] = {"lastLogin": when}
        await self.coll.update_one({"_id": user["_id"]}, update)
        tokens = ((user.get("services") or {}).get("resume") or {}).get("loginTokens") or []
        if any(isinstance(t, dict) and self.token_expired(t, when) for t in tokens):
            await self.prune_expired(user["_id"])
        raw = {**user, "lastLogin": when} if touch else dict(user)
        return Session(without_services(raw), token, hashed, when + self.token_lifetime, login_type, raw)

    async def prune_expired(self, user_id: str) -> None:
        oldest = now() - self.token_lifetime
        await self.coll.update_one(
            {"_id": user_id},
            {"$pull": {"services.resume.loginTokens": {"when": {"$lt": oldest}, "type": {"$ne": PAT}}}})

    async def revoke_token(self, user_id: str, hashed_token: str) -> bool:
        res = await self.coll.update_one(
            {"_id": user_id}, {"$pull": {"services.resume.loginTokens": {"hashedToken": hashed_token}}})
        return res.modified_count > 0

    async def revoke_all(self, user_id: str, keep_pats: bool = False, keep: str | None = None) -> list[str]:
        """Remove the login tokens of a user (deactivation, password change) except `keep` and, when asked,
        personal access tokens; returns the removed hashes."""
        doc = await self.coll.find_one({"_id": user_id}, {"services.resume.loginTokens": 1})
        tokens = (((doc or {}).get("services") or {}).get("resume") or {}).get("loginTokens") or []
        removed = [t.get("hashedToken") for t in tokens
                   if not (keep_pats and t.get("type") == PAT) and t.get("hashedToken") != keep]
        removed = [h for h in removed if h]
        if removed:
            await self.coll.update_one({"_id": user_id},
                                       {"$pull": {"services.resume.loginTokens": {"hashedToken": {"$in": removed}}}})
        return removed

    async def touch_login(self, user_id: str) -> None:
        await self.coll.update_one({"_id": user_id}, {"$set": {"lastLogin": now()}})
