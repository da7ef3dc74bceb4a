"""The message pipeline: validate → prevent → extend → modify → persist → emit → post, for send and edit
(deletion, with its single prevent hook, is in `deletion`).

Hook payloads are deep copies, so an implementation can change only what its hook kind allows: a
`pre_*_prevent` answers yes/no, a `pre_*_extend` adds attachments and custom fields, a `pre_*_modify`
replaces content but never identity or server state (`shape.keep_identity`).
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from core.context import Context, random_id
from core.errors import ApiError, MeteorError
from plugins.messaging.constants import CLIENT_TYPES
from plugins.messaging.mentions import resolve_references
from plugins.messaging.parsing import parse_date, urls_in
from plugins.messaging.service import now
from plugins.messaging.shape import (
    IMPERSONATION,
    attachment_text_size,
    check_attachments,
    check_custom_fields,
    client_message,
    diff_update,
    keep_identity,
    merge_extensions,
)

if TYPE_CHECKING:
    from plugins.messaging.service import MessagingService

PREVENTED = {"sent": ("error-app-prevented", "A Rocket.Chat App prevented the message sending."),
             "updated": ("error-app-prevented-updating", "A Rocket.Chat App prevented the message updating."),
             "deleted": ("error-app-prevented-deleting", "A Rocket.Chat App prevented the message deleting.")}


def user_ref(user: Mapping[str, Any]) -> dict[str, Any]:
    ref = {"_id": user["_id"], "username": user.get("username")}
    if user.get("name") is not None:
        ref["name"] = user["name"]
    return ref


class MessagePipeline:
    def __init__(self, service: MessagingService) -> None:
        self.s = service

    # -- the hook stages, shared by send and update ----------------------------------------------------
    async def _hooks(self, event: str, message: dict, room: dict, ctx: Context, **extra: Any) -> dict:
        hooks = self.s.api.hooks
        names = [f"pre_message_{event}_{kind}" for kind in ("prevent", "extend", "modify")]
        if not any(hooks.has_implementations(n) for n in names):
            return message
        args = {"room": copy.deepcopy(room), "ctx": ctx, **{k: copy.deepcopy(v) for k, v in extra.items()}}
        denial = await hooks.first_deny(names[0], message=copy.deepcopy(message), **args)
        if denial is not None:
            code, reason = PREVENTED[event]
            raise MeteorError(code, reason, {"reason": denial.reason} if denial.reason else None)
        additions = await hooks.collect(names[1], message=copy.deepcopy(message), **args)
        message = merge_extensions(message, additions)
        replaced = await hooks.pipeline(names[2], copy.deepcopy(message), "message", **args)
        return keep_identity(replaced, message)

    def post(self, hook: str, **payload: Any) -> None:
        """A `post_*` hook, in the background, with copies of the payload."""
        hooks = self.s.api.hooks
        if hooks.has_implementations(hook):
            hooks.notify(hook, **{k: copy.deepcopy(v) if k != "ctx" else v for k, v in payload.items()})

    def _check_size(self, message: dict) -> None:
        limit = int(self.s.setting("Message_MaxAllowedSize", 5000))
        if len(message.get("msg") or "") > limit or attachment_text_size(message.get("attachments")) > limit:
            raise MeteorError("error-message-size-exceeded", "Message size exceeds Message_MaxAllowedSize",
                              {"method": "sendMessage"})

    # -- send --------------------------------------------------------------------------------------------
    async def send(self, ctx: Context, raw: dict[str, Any], *, client_ts: Any = None,
                   trusted: bool = False, parse_urls: bool = True) -> dict[str, Any]:
        """Validate and store a user's message; returns the stored document."""
        s = self.s
        user = await s.get_user(ctx.user or {})
        if not user.get("username"):
            raise MeteorError("error-invalid-user", "Invalid user", {"method": "sendMessage"})
        message = client_message(raw)
        if message.get("tshow") and not message.get("tmid"):
            raise MeteorError("invalid-params", "tshow provided but missing tmid", {"method": "sendMessage"})
        message["ts"] = self._timestamp(client_ts)
        self._check_size(message)
        rid = await self._thread_room(message)
        if not isinstance(rid, str) or not rid:
            raise MeteorError("error-invalid-room", "The 'rid' property on the message object is missing.")
        room = await s.guard.writable_room(user, rid)
        impersonating = not trusted and any(message.get(k) for k in IMPERSONATION)
        if impersonating and not await s.has_permission(user, "message-impersonate", room["_id"]):
            raise ApiError("Not enough permission", "error-not-allowed")
        check_custom_fields(message.get("customFields"), bool(s.setting("Message_CustomFields_Enabled")),
                            str(s.setting("Message_CustomFields", "")))
        message.update(rid=room["_id"], u=user_ref(user))
        # A client-chosen `_id` already stored (a client retrying) is found by the insert's duplicate key,
        # not by a read before every message.
        message.setdefault("_id", random_id())
        check_attachments(message.get("attachments"))
        message = await self._hooks("sent", message, room, ctx)
        check_attachments(message.get("attachments"))      # again: a hook's additions are checked too
        message.update(await resolve_references(s, message.get("msg", ""), user, room))
        message["urls"] = urls_in(message.get("msg", "")) if parse_urls else []
        message["_updatedAt"] = now()
        try:
            await s.inserts.insert(message)
        except DuplicateKeyError:
            existing = await self._existing(message["_id"], user)
            if existing is None:
                raise
            return existing
        await s.emit(message, "inserted")
        if message.get("tmid"):
            await self._count_reply(message)
        self.post("post_message_sent", message=message, room=room, ctx=ctx)
        return message

    def _timestamp(self, client_ts: Any) -> Any:
        ts = now()
        if client_ts is None:
            return ts
        sent = parse_date(client_ts, "ts")
        drift = abs((sent - ts).total_seconds())
        if drift > 60:
            raise MeteorError("error-message-ts-out-of-sync", "Message timestamp is out of sync",
                              {"method": "sendMessage"})
        return ts if drift > 10 else sent.replace(microsecond=sent.microsecond - sent.microsecond % 1000)

    async def _thread_room(self, message: dict) -> Any:
        """Replies go to their parent's room; a reply to a reply joins the parent's thread (no nesting)."""
        tmid = message.get("tmid")
        if not tmid:
            return message.get("rid")
        if not self.s.setting("Threads_enabled", True):
            raise MeteorError("error-not-allowed", "not-allowed", {"method": "sendMessage"})
        parent = await self.s.messages.find_one({"_id": tmid}, {"rid": 1, "tmid": 1})
        if parent is None:
            raise MeteorError("error-invalid-message", "Invalid thread parent", {"method": "sendMessage"})
        message["tmid"] = parent.get("tmid") or tmid
        return parent["rid"]

    async def _existing(self, mid: Any, user: Mapping[str, Any]) -> dict[str, Any] | None:
        """A client `_id` is kept when unused; resending the same message returns it (a client retry)."""
        if not mid:
            return None
        found = await self.s.get_message(mid)
        if found is None:
            return None
        if (found.get("u") or {}).get("_id") != user["_id"]:
            raise MeteorError("error-message-already-exists", "This message was already sent.")
        return found

    async def _count_reply(self, reply: dict) -> None:
        """The parent of a thread counts its replies (`tcount`), the last one (`tlm`) and its followers."""
        s = self.s
        parent = await s.get_message(reply["tmid"])
        if parent is None:
            return
        followers = [m["_id"] for m in reply.get("mentions") or () if m.get("type") == "user"]
        if parent.get("replies"):
            followers.append(reply["u"]["_id"])
        else:
            followers += [parent["u"]["_id"], reply["u"]["_id"]]
        await s.messages.update_one({"_id": parent["_id"]}, {
            "$addToSet": {"replies": {"$each": list(dict.fromkeys(followers))}},
            "$inc": {"tcount": 1}, "$set": {"tlm": reply["ts"], "_updatedAt": now()}})
        await s.emit_changed(parent["_id"])

    # -- system messages ---------------------------------------------------------------------------------
    async def system_message(self, rid: str, kind: str, user: Mapping[str, Any], msg: str = "",
                             extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Store a system message (`uj`, `ul`, `au`, `ru`, `message_pinned`, ...): no pre hooks."""
        ts = now()
        message: dict[str, Any] = {"_id": random_id(), "t": kind, "rid": rid, "ts": ts, "msg": msg or "",
                                   "u": user_ref(user), "groupable": False}
        for key, value in (extra or {}).items():
            if key not in ("_id", "rid", "t") and isinstance(key, str) and not key.startswith("$"):
                message[key] = copy.deepcopy(value)
        message["_updatedAt"] = ts
        await self.s.messages.insert_one(message)
        await self.s.emit(message, "inserted")
        if self.s.api.hooks.has_implementations("post_message_sent"):
            room = await self.s.get_room(rid) or {"_id": rid}
            self.post("post_message_sent", message=message, room=room, ctx=Context.internal(dict(user)))
        return message

    # -- update ------------------------------------------------------------------------------------------
    async def update(self, ctx: Context, previous: dict[str, Any], text: str | None,
                     custom_fields: dict | None = None, content: dict | None = None) -> dict[str, Any]:
        """Edit a message's text (None: unchanged) and custom fields; server-side callers (apps) may also
        replace `attachments` and `blocks` through `content`. Returns the stored document."""
        s = self.s
        user = await s.get_user(ctx.user or {})
        rid = previous["rid"]
        await self._may_edit(user, previous)
        room = await s.guard.writable_room(user, rid)
        edited = copy.deepcopy(previous)
        check_custom_fields(custom_fields, bool(s.setting("Message_CustomFields_Enabled")),
                            str(s.setting("Message_CustomFields", "")))
        for key in ("attachments", "blocks"):
            if content and isinstance(content.get(key), list):
                edited[key] = copy.deepcopy(content[key])
        if text is not None:
            self._check_size({"msg": text})
            attachments = edited.get("attachments") or []
            if attachments and isinstance(attachments[0], dict) and "description" in attachments[0]:
                attachments[0]["description"] = text    # a file message: the text is the file's description
            else:
                edited["msg"] = text
        if custom_fields is not None:
            edited["customFields"] = copy.deepcopy(custom_fields)
        if edited == previous:
            return previous
        ts = now()
        edited.update(editedAt=ts, editedBy={"_id": user["_id"], "username": user.get("username")})
        edited = await self._hooks("updated", edited, room, ctx, previous=previous)
        check_attachments(edited.get("attachments"))
        edited.update(await resolve_references(s, edited.get("msg", ""), user, room))
        if isinstance(edited.get("urls"), list) or "://" in edited.get("msg", ""):
            edited["urls"] = urls_in(edited.get("msg", ""))
        edited["_updatedAt"] = ts
        if s.setting("Message_KeepHistory"):
            await self.keep_history(previous, user)
        update = diff_update(previous, edited)
        if update:
            await s.messages.update_one({"_id": previous["_id"]}, update)
        await s.emit(edited, "updated")
        self.post("post_message_updated", message=edited, previous=previous, room=room, ctx=ctx)
        return edited

    async def _may_edit(self, user: Mapping[str, Any], previous: dict) -> None:
        s, rid = self.s, previous["rid"]
        if previous.get("t") and previous["t"] not in CLIENT_TYPES:
            raise MeteorError("error-action-not-allowed", "Message editing not allowed",
                              {"method": "updateMessage", "action": "Message_editing"})
        own = (previous.get("u") or {}).get("_id") == user["_id"]
        may_edit_own = bool(s.setting("Message_AllowEditing", True)) and own
        if not may_edit_own and not await s.has_permission(user, "edit-message", rid):
            raise MeteorError("error-action-not-allowed", "Message editing not allowed",
                              {"method": "updateMessage", "action": "Message_editing"})
        minutes = int(s.setting("Message_AllowEditing_BlockEditInMinutes", 0) or 0)
        late = bool(minutes) and now() - previous["ts"] >= timedelta(minutes=minutes)
        if late and not await s.has_permission(user, "bypass-time-limit-edit-and-delete", rid):
            raise MeteorError("error-message-editing-blocked", "Message editing is blocked",
                              {"method": "updateMessage"})

    async def keep_history(self, previous: dict, user: Mapping[str, Any]) -> None:
        """Message_KeepHistory: the version being replaced is kept as a hidden copy pointing at it."""
        copy_doc = {**copy.deepcopy(previous), "_id": random_id(), "_hidden": True, "parent": previous["_id"],
                    "editedAt": now(), "editedBy": {"_id": user["_id"], "username": user.get("username")}}
        await self.s.messages.insert_one(copy_doc)
