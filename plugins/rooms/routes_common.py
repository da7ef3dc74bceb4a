"""Helpers the REST routes share: users from request parameters, dates, response shapes."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.errors import ApiError, MeteorError
from core.rest import Page
from plugins.rooms.store import RoomStore


async def user_from_params(store: RoomStore, params: Mapping[str, Any]) -> dict[str, Any]:
    """Rocket.Chat's `getUserFromParams`: `userId`, else `username`, else `user`."""
    user = None
    if isinstance(params.get("userId"), str) and params["userId"].strip():
        user = await store.user(params["userId"])
    elif isinstance(params.get("username"), str) and params["username"].strip():
        user = await store.user_by_username(params["username"])
    elif isinstance(params.get("user"), str) and params["user"].strip():
        user = await store.user_by_username(params["user"])
    else:
        raise MeteorError("error-user-param-not-provided", 'The required "userId" or "username" param was not provided')
    if user is None:
        raise MeteorError("error-invalid-user", 'The required "userId" or "username" param provided does not match '
                                                "any users")
    return user


async def usernames_from_params(store: RoomStore, params: Mapping[str, Any]) -> list[str]:
    """Rocket.Chat's `getUserListFromParams`: every named user must exist."""
    ids = [i for i in [*(params.get("userIds") or []), params.get("userId")] if i]
    names = [n for n in [*(params.get("usernames") or []), params.get("username"), params.get("user")] if n]
    out: list[str] = []
    if ids:
        found = {u["_id"]: u for u in await store.users_by_ids(ids, {"username": 1})}
        if len(found) != len(set(ids)):
            raise MeteorError("error-user-not-found", "User not found")
        out.extend(found[i]["username"] for i in dict.fromkeys(ids))
    for name in names:
        if await store.user_by_username(name) is None:
            raise MeteorError("error-user-not-found", "User not found")
        out.append(name.removeprefix("@"))
    return list(dict.fromkeys(out))


def parse_since(raw: Any) -> datetime | None:
    """`updatedSince` as Rocket.Chat accepts it (an ISO date)."""
    if raw in (None, ""):
        return None
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise ApiError('The "updatedSince" query parameter must be a valid date.',
                       "error-updatedSince-param-invalid") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def paged(key: str, items: list[Any], page: Page, total: int) -> dict[str, Any]:
    return {key: items, "count": len(items), "offset": page.offset, "total": total}
