"""Deleting a message (Rocket.Chat's deleteMessage): who may, the `pre_message_deleted_prevent` hook, and
what is left behind — nothing but a trash entry, a hidden copy, or a `t:'rm'` tombstone."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from core.context import Context
from core.errors import ApiError, MeteorError
from plugins.messaging.constants import MESSAGES
from plugins.messaging.pipeline import PREVENTED
from plugins.messaging.service import now

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService


class MessageDeletion:
    def __init__(self, service: MessagingService) -> None:
        self.s = service

    async def delete(self, ctx: Context, message: dict[str, Any], actor: Mapping[str, Any]) -> None:
        """Delete as `actor` (the caller, or the author for `asUser`), with Rocket.Chat's rules."""
        s = self.s
        room = await s.get_room(message["rid"]) or {"_id": message["rid"]}
        await self._may_delete(actor, message, room)
        if s.api.hooks.has_implementations("pre_message_deleted_prevent"):
            denial = await s.api.hooks.first_deny("pre_message_deleted_prevent", message=copy.deepcopy(message),
                                                  room=copy.deepcopy(room), ctx=ctx)
            if denial is not None:
                code, reason = PREVENTED["deleted"]
                raise MeteorError(code, reason, {"reason": denial.reason} if denial.reason else None)
        await self._remove(message, actor)
        s.pipeline.post("post_message_deleted", message=message, room=room, ctx=ctx)

    async def _may_delete(self, actor: Mapping[str, Any], message: dict, room: dict) -> None:
        s, rid = self.s, message["rid"]
        refused = MeteorError("error-action-not-allowed", "Not allowed",
                              {"method": "deleteMessage", "action": "Delete_message"})
        if await s.has_permission(actor, "force-delete-message", rid):
            return
        if not s.setting("Message_AllowDeleting", True):
            raise refused
        own = (message.get("u") or {}).get("_id") == actor["_id"]
        may_delete_own = own and await s.has_permission(actor, "delete-own-message", rid)
        if not may_delete_own and not await s.has_permission(actor, "delete-message", rid):
            raise refused
        minutes = int(s.setting("Message_AllowDeleting_BlockDeleteInMinutes", 0) or 0)
        late = bool(minutes) and now() - message["ts"] >= timedelta(minutes=minutes)
        if late and not await s.has_permission(actor, "bypass-time-limit-edit-and-delete", rid):
            raise refused
        if room.get("ro") and not await s.guard.may_post_read_only(actor, room):
            raise ApiError("You can't delete messages because the room is readonly.", "error-not-allowed")

    async def _remove(self, message: dict, actor: Mapping[str, Any]) -> None:
        """Rocket.Chat's deleteMessage: a thread parent (or Message_ShowDeletedStatus) stays as a `t:'rm'`
        tombstone; otherwise the message goes to the trash (or is hidden with Message_KeepHistory)."""
        s, mid, ts = self.s, message["_id"], now()
        is_thread = (message.get("tcount") or 0) > 0
        show_deleted = bool(s.setting("Message_ShowDeletedStatus")) or is_thread
        keep = bool(s.setting("Message_KeepHistory")) or is_thread
        if message.get("tmid"):
            await s.messages.update_one({"_id": message["tmid"], "tcount": {"$gt": 0}},
                                        {"$inc": {"tcount": -1}, "$set": {"_updatedAt": ts}})
            await s.emit_changed(message["tmid"])
        if keep and show_deleted:
            await s.pipeline.keep_history(message, actor)
        elif keep:
            await s.messages.update_one({"_id": mid}, {"$set": {"_hidden": True, "_updatedAt": ts}})
        elif not show_deleted:
            await s.messages.delete_one({"_id": mid})
        if not show_deleted:
            trash = {**message, "_deletedAt": ts, "__collection__": MESSAGES}
            await s.trash.replace_one({"_id": mid}, trash, upsert=True)
            await s.emit_deleted(message["rid"], mid)
            return
        tombstone = {"msg": "", "t": "rm", "urls": [], "mentions": [], "attachments": [], "reactions": {},
                     "editedAt": ts, "editedBy": {"_id": actor["_id"], "username": actor.get("username")},
                     "_updatedAt": ts}
        await s.messages.update_one({"_id": mid}, {"$set": tombstone})
        await s.emit_changed(mid)
