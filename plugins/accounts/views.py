"""What a client sees of a user document: `me`, `users.info`, list items, the DDP `users` record."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Never leave the server, whatever projection a caller asks for.
HIDDEN = ("services", "inviteToken", "e2e", "importIds")
# Shown to the user themself and to callers with `view-full-other-user-info` only.
PRIVATE = ("emails", "phone", "roles", "settings", "lastLogin", "createdAt", "statusConnection",
           "statusDefault", "avatarOrigin", "requirePasswordChange", "requirePasswordChangeReason",
           "_updatedAt", "customFields")
ME_FIELDS = ("_id", "name", "username", "nickname", "emails", "status", "statusDefault", "statusText",
             "statusConnection", "bio", "avatarOrigin", "utcOffset", "language", "settings", "enableAutoAway",
             "idleTimeLimit", "roles", "active", "defaultRoom", "customFields", "requirePasswordChange",
             "requirePasswordChangeReason", "statusLivechat", "banners", "_updatedAt", "avatarETag",
             "extension", "type", "createdAt", "lastLogin")
LIST_FIELDS = ("_id", "username", "name", "type", "status", "active", "roles", "emails", "nickname",
               "statusText", "avatarETag", "lastLogin", "createdAt", "_updatedAt", "utcOffset")
DDP_FIELDS = ("username", "emails", "name", "status", "statusText", "statusDefault", "utcOffset", "roles",
              "active", "type", "settings", "language", "avatarETag")


def without_services(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in HIDDEN}


def first_email(doc: Mapping[str, Any]) -> str | None:
    emails = doc.get("emails") or []
    for e in emails:
        if e.get("verified"):
            return e.get("address")
    return emails[0].get("address") if emails else None


def me_view(doc: Mapping[str, Any], site_url: str) -> dict[str, Any]:
    """Rocket.Chat's `getUserInfo(me)`: default fields plus email, avatarUrl, settings, services summary."""
    out = {k: doc[k] for k in ME_FIELDS if k in doc}
    services = doc.get("services") or {}
    out["email"] = first_email(doc)
    out["avatarUrl"] = f"{site_url.rstrip('/')}/avatar/{doc.get('username', '')}"
    settings = dict(doc.get("settings") or {})
    out["settings"] = {"profile": settings.get("profile") or {}, "preferences": settings.get("preferences") or {}}
    out["isOAuthUser"] = any(k not in ("password", "resume", "email2fa", "totp", "email", "ldap")
                             for k in services)
    summary: dict[str, Any] = {"password": {"exists": bool((services.get("password") or {}).get("bcrypt"))}}
    if "totp" in services:
        summary["totp"] = {"enabled": bool(services["totp"].get("enabled"))}
    if "email2fa" in services:
        summary["email2fa"] = {"enabled": bool(services["email2fa"].get("enabled"))}
    out["services"] = summary
    return out


def info_view(doc: Mapping[str, Any], full: bool) -> dict[str, Any]:
    """`users.info` / `users.list` item: private fields only for self or `view-full-other-user-info`."""
    out = without_services(doc)
    if not full:
        for key in PRIVATE:
            out.pop(key, None)
    return out


def ddp_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The fields Meteor publishes on collection `users` for the logged-in connection."""
    return {k: doc[k] for k in DDP_FIELDS if k in doc}
