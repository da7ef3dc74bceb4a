"""User lifecycle hooks (Rocket.Chat Apps: IPreUserCreated..., IPostUserLoggedIn, IPostUserStatusChanged)."""
from __future__ import annotations

from typing import Any

from core.hookspecs import hookspec


@hookspec
async def pre_user_created_prevent(user: dict, ctx: Any) -> bool | str | None:
    """Before a user is inserted. `user` is the document about to be stored (no password hash).
    Return True or a reason string to refuse; the first refusal wins and the creation fails with 400."""


@hookspec
async def post_user_created(user: dict, ctx: Any) -> None:
    """After a user is committed (background, isolated). `user` has no `services`."""


@hookspec
async def post_user_logged_in(user: dict, ctx: Any) -> None:
    """After a successful login over REST or DDP (background). `ctx.connection_id` is set for DDP."""


@hookspec
async def post_user_logged_out(user: dict, ctx: Any) -> None:
    """After a logout revoked the caller's token (background)."""


@hookspec
async def post_user_status_changed(user: dict, status: str, previous_status: str | None,
                                   status_text: str | None) -> None:
    """After a user's effective presence status changed (background). `user` has `_id`, `username`."""
