"""Room lifecycle hooks. Payloads are plain documents in Rocket.Chat's shape (`rocketchat_room`)."""
from __future__ import annotations

from typing import Any

from core.hookspecs import hookspec


@hookspec
async def pre_room_created_prevent(room: dict, ctx: Any) -> bool | str | None:
    """Before a room is inserted. Return True or a reason to refuse; first refusal wins (400)."""


@hookspec
async def post_room_created(room: dict, ctx: Any) -> None:
    """After a room and its creator's subscription are committed (background)."""


@hookspec
async def pre_room_user_joined_prevent(room: dict, user: dict, inviter: dict | None, ctx: Any) -> bool | str | None:
    """Before `user` joins (or is added to) `room`. Return True or a reason to refuse."""


@hookspec
async def post_room_user_joined(room: dict, user: dict, inviter: dict | None, ctx: Any) -> None:
    """After `user` joined or was added to `room` (background)."""


@hookspec
async def post_room_user_left(room: dict, user: dict, remover: dict | None, ctx: Any) -> None:
    """After `user` left or was removed from `room` (background). `remover` is set for kicks."""


@hookspec
async def post_room_deleted(room: dict, ctx: Any) -> None:
    """After a room, its subscriptions and messages were deleted (background)."""
