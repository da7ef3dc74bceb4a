"""The message pipeline hooks: validate → prevent → extend → modify → persist → emit → post.

`message` is the Rocket.Chat document (`rocketchat_message`: `_id`, `rid`, `msg`, `ts`, `u`, ...), `room`
the room document, `ctx` the caller's `core.context.Context`. Apps implement these same hooks.
"""
from __future__ import annotations

from typing import Any

from core.hookspecs import hookspec


@hookspec
async def pre_message_sent_prevent(message: dict, room: dict, ctx: Any) -> bool | str | None:
    """Return True or a reason string to stop the message; the first refusal wins (400 for the sender)."""


@hookspec
async def pre_message_sent_extend(message: dict, room: dict, ctx: Any) -> dict | None:
    """Return additions only: a dict whose `attachments` (list) are appended and whose `customFields`
    are merged; other keys are ignored. None for no change. Implementations run in order."""


@hookspec
async def pre_message_sent_modify(message: dict, room: dict, ctx: Any) -> dict | None:
    """Return a replacement message (it keeps `_id`, `rid`, `u`, `ts`), or None for no change. Each
    implementation receives the previous one's result."""


@hookspec
async def post_message_sent(message: dict, room: dict, ctx: Any) -> None:
    """After the message is committed and broadcast (background, isolated)."""


@hookspec
async def pre_message_updated_prevent(message: dict, previous: dict, room: dict, ctx: Any) -> bool | str | None:
    """Before an edit: `message` is the edited version, `previous` the stored one."""


@hookspec
async def pre_message_updated_extend(message: dict, previous: dict, room: dict, ctx: Any) -> dict | None:
    """Additions to an edited message, as `pre_message_sent_extend`."""


@hookspec
async def pre_message_updated_modify(message: dict, previous: dict, room: dict, ctx: Any) -> dict | None:
    """Replacement for an edited message, as `pre_message_sent_modify`."""


@hookspec
async def post_message_updated(message: dict, previous: dict, room: dict, ctx: Any) -> None:
    """After an edit is committed (background)."""


@hookspec
async def pre_message_deleted_prevent(message: dict, room: dict, ctx: Any) -> bool | str | None:
    """Before a delete. Return True or a reason to refuse."""


@hookspec
async def post_message_deleted(message: dict, room: dict, ctx: Any) -> None:
    """After a delete is committed (background)."""
