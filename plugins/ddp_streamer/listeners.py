"""Broker events → stream events (Rocket.Chat's ListenersModule). Every process maps the events it receives
to its own local subscribers only; the broker transport already carries events to every process."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core import jsonutil
from core.context import random_id
from plugins.ddp_streamer.service import changed_frame
from plugins.ddp_streamer.streams import (
    APPS,
    MY_MESSAGES,
    NOTIFY_ALL,
    NOTIFY_LOGGED,
    NOTIFY_ROOM,
    NOTIFY_USER,
    ROLES,
    ROOM_MESSAGES,
)

if TYPE_CHECKING:
    from plugins.ddp_streamer.service import StreamerService

log = logging.getLogger("orbitchat.ddp_streamer")

STATUS_CODES = {"offline": 0, "online": 1, "away": 2, "busy": 3}
ACTIVITIES = frozenset({"user-typing", "user-recording", "user-uploading"})
SETTING_FIELDS = ("_id", "value", "editor", "properties", "enterprise", "requiredOnWizard")
LOGOUT_CLOSE = 1002     # what ddp-streamer closes a logged-out socket with
LOGGED_EVENTS = {       # broker event → notify-logged event; payload sent as the single argument
    "user.nameChanged": "Users:NameChanged",
    "user.deleted": "Users:Deleted",
    "user.roleUpdate": "roles-change",
}
USER_EVENTS = {         # broker event → (payload key of the argument, notify-user event suffix)
    "notify.desktop": ("notification", "notification"),
    "notify.uiInteraction": ("interaction", "uiInteraction"),
    "banner.user": ("banner", "banners"),
}
APPS_EVENTS = ("apps.added", "apps.removed", "apps.updated", "apps.statusUpdate", "apps.settingUpdated",
               "command.added", "command.updated", "command.disabled", "command.removed", "actions.changed")


def _clean_user_fields(fields: Any) -> Any:
    """User documents and diffs never carry `services` (password hashes, login tokens) to a client."""
    if not isinstance(fields, dict):
        return fields
    return {k: v for k, v in fields.items() if k != "services" and not k.startswith("services.")}


class Listeners:
    def __init__(self, service: StreamerService) -> None:
        self.s = service
        self._unsubscribe: list[Callable[[], None]] = []

    def handlers(self) -> dict[str, Callable[[Any], Any]]:
        table: dict[str, Callable[[Any], Any]] = {
            "watch.settings": self.on_setting,
            "presence.status": self.on_presence,
            "watch.messages": self.on_message,
            "watch.subscriptions": self.on_subscription,
            "watch.rooms": self.on_room,
            "watch.users": self.on_user,
            "watch.roles": self.on_role,
            "permission.changed": self.on_permission,
            "notify.ephemeralMessage": self.on_ephemeral,
            "notify.deleteMessage": self.on_delete_message,
            "notify.deleteMessageBulk": self.on_delete_bulk,
            "notify.messagesRead": self.on_messages_read,
            "user.activity": self.on_activity,
            "user.avatarUpdate": self.on_user_avatar,
            "room.avatarUpdate": self.on_room_avatar,
            "user.forceLogout": self.on_force_logout,
            "accounts.logout": self.on_logout,
            "socket.disconnected": self.on_disconnected,
        }
        for event, name in LOGGED_EVENTS.items():
            table[event] = self._logged(name)
        for event, (key, suffix) in USER_EVENTS.items():
            table[event] = self._to_user(key, suffix)
        for event in APPS_EVENTS:
            table[event] = self._apps(event)
        return table

    async def start(self) -> None:
        broker = self.s.api.broker
        for event, handler in self.handlers().items():
            self._unsubscribe.append(await broker.subscribe(event, _guarded(event, handler)))

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    @property
    def ddp(self) -> Any:
        return self.s.api.ddp

    # -- settings, roles, permissions ---------------------------------------------------------------
    def on_setting(self, event: dict) -> None:
        setting = event.get("setting") or {}
        sid = setting.get("_id")
        definition = self.s.api.settings.definitions.get(sid)
        if not isinstance(sid, str) or (definition is not None and definition.get("hidden")):
            return
        action = event.get("clientAction", "updated")
        value = {k: setting[k] for k in SETTING_FIELDS if setting.get(k) is not None}
        value.setdefault("value", setting.get("value"))
        if setting.get("public"):
            self.ddp.publish(NOTIFY_ALL, "public-settings-changed", [action, value])
            self.ddp.publish(NOTIFY_ALL, "public-info", [["public-settings-changed", [action, value]]])
        # Read-checked at subscribe time: only users allowed to view private settings listen to this.
        self.ddp.publish(NOTIFY_LOGGED, "private-settings-changed", [action, value])

    def on_role(self, event: dict) -> None:
        self.s.access.forget()
        role = event.get("role") or {}
        kind = "removed" if event.get("clientAction") == "removed" else "changed"
        self.ddp.publish(ROLES, "roles", [{"type": kind, **role}])

    def on_permission(self, event: dict) -> None:
        self.s.access.forget()
        self.ddp.publish(NOTIFY_LOGGED, "permissions-changed", [event.get("clientAction"), event.get("data")])

    # -- presence -------------------------------------------------------------------------------------
    def on_presence(self, event: dict) -> None:
        user = event.get("user") or {}
        uid, username, status = user.get("_id"), user.get("username"), user.get("status")
        if not isinstance(uid, str) or not username or not status:
            return
        code = STATUS_CODES.get(status, 0)
        text = user.get("statusText") or ""
        self.ddp.publish(NOTIFY_LOGGED, "user-status",
                         [[uid, username, code, text, user.get("name"), user.get("roles") or []]])
        self.s.presence.publish(uid, username, code, text)
        self.ddp.publish(NOTIFY_USER, f"{uid}/userData",
                         [{"type": "updated", "id": uid, "diff": {"status": status, "statusText": text},
                           "unset": {}}])

    # -- messages -------------------------------------------------------------------------------------
    def on_message(self, event: dict) -> None:
        message = event.get("message") or {}
        rid = message.get("rid")
        if not isinstance(rid, str) or message.get("_hidden"):
            return
        self.ddp.publish(ROOM_MESSAGES, rid, [message])
        if self.s.listens(ROOM_MESSAGES, MY_MESSAGES):
            self.s.worker.submit(lambda: self._my_messages(rid, message))

    async def _my_messages(self, rid: str, message: dict) -> None:
        """`__my_messages__`: every message of every room the listener may read, with its room's meta."""
        conns = self.ddp.subscribers(ROOM_MESSAGES, MY_MESSAGES)
        uids = {c.user_id for c in conns if c.user_id}
        if not uids:
            return
        db = self.s.api.db
        room = await db["rocketchat_room"].find_one({"_id": rid}, {"t": 1, "name": 1, "fname": 1})
        if room is None:
            return
        cursor = db["rocketchat_subscription"].find({"rid": rid, "u._id": {"$in": sorted(uids)}}, {"u._id": 1})
        members = {doc["u"]["_id"] async for doc in cursor}
        allowed = {uid for uid in uids if uid in members or await self.s.access.can_access(uid, rid)}
        frames: dict[bool, str] = {}
        for conn in conns:
            uid = conn.user_id
            if uid not in allowed:
                continue
            participant = uid in members
            if participant not in frames:
                meta = {"roomParticipant": participant, "roomType": room.get("t"), "roomName": room.get("name")}
                frames[participant] = changed_frame(ROOM_MESSAGES, MY_MESSAGES,
                                                    jsonutil.ejson_dumps([message, meta]).decode())
            conn.send_raw(frames[participant])

    def on_ephemeral(self, event: dict) -> None:
        uid, rid, message = event.get("uid"), event.get("rid"), event.get("message") or {}
        if not isinstance(uid, str):
            return
        payload = {"groupable": False, **message, "_id": message.get("_id") or random_id(), "rid": rid,
                   "ts": message.get("ts") or datetime.now(UTC)}
        self.ddp.publish(NOTIFY_USER, f"{uid}/message", [payload])

    def on_delete_message(self, event: dict) -> None:
        rid, mid = event.get("rid"), event.get("_id")
        if isinstance(rid, str) and mid:
            self.ddp.publish(NOTIFY_ROOM, f"{rid}/deleteMessage", [{"_id": mid}])

    def on_delete_bulk(self, event: dict) -> None:
        rid = event.get("rid")
        if isinstance(rid, str):
            self.ddp.publish(NOTIFY_ROOM, f"{rid}/deleteMessageBulk", [event])

    def on_messages_read(self, event: dict) -> None:
        rid = event.get("rid")
        if isinstance(rid, str):
            payload = {"until": event.get("until")}
            if event.get("tmid"):
                payload["tmid"] = event["tmid"]
            self.ddp.publish(NOTIFY_ROOM, f"{rid}/messagesRead", [payload])

    def on_activity(self, event: dict) -> None:
        """Typing and friends, from a client of any process: both the current and the legacy event."""
        rid, username = event.get("rid"), event.get("username")
        activities = event.get("activities")
        if not isinstance(rid, str) or not isinstance(username, str) or not isinstance(activities, list):
            return
        activities = [a for a in activities if a in ACTIVITIES]
        extra = event.get("extra") if isinstance(event.get("extra"), dict) else {}
        origin = event.get("connectionId")
        self.ddp.publish(NOTIFY_ROOM, f"{rid}/user-activity", [username, activities, extra], exclude=origin)
        self.ddp.publish(NOTIFY_ROOM, f"{rid}/typing", [username, "user-typing" in activities], exclude=origin)

    # -- rooms and subscriptions ------------------------------------------------------------------
    def on_subscription(self, event: dict) -> None:
        sub = event.get("subscription") or {}
        action = event.get("clientAction")
        uid, rid = (sub.get("u") or {}).get("_id"), sub.get("rid")
        if not isinstance(uid, str):
            return
        self.ddp.publish(NOTIFY_USER, f"{uid}/subscriptions-changed", [action, sub])
        if not isinstance(rid, str):
            return
        self.s.access.forget(uid, rid)
        if action == "removed":
            self.s.bindings.unbind(uid, rid)
            if self.s.connections_of(uid):
                self.s.worker.submit(lambda: self._recheck_room_subs(uid, rid))
        elif self.s.bindings.bind(uid, rid) and action == "inserted":
            # The room is new to this user: its list learns of it even if the room event came first.
            self.s.worker.submit(lambda: self._announce_room(uid, rid))

    async def _announce_room(self, uid: str, rid: str) -> None:
        room = await self.s.api.db["rocketchat_room"].find_one({"_id": rid})
        if room is not None:
            self.ddp.publish(NOTIFY_USER, f"{uid}/rooms-changed", ["inserted", room])

    async def _recheck_room_subs(self, uid: str, rid: str) -> None:
        """A user left or was removed from a room: stop its room streams unless it may still read it."""
        if await self.s.access.can_access(uid, rid):
            return
        prefix = rid + "/"
        for conn in self.s.connections_of(uid):
            for sub in list(conn.subs.values()):
                if (sub.name == ROOM_MESSAGES and sub.event_name == rid) or \
                        (sub.name == NOTIFY_ROOM and sub.event_name.startswith(prefix)):
                    conn.subs.pop(sub.id, None)
                    self.ddp.unsubscribe(conn, sub.name, sub.event_name)
                    conn.send({"msg": "nosub", "id": sub.id})

    def on_room(self, event: dict) -> None:
        room = event.get("room") or {}
        rid, action = room.get("_id"), event.get("clientAction")
        if not isinstance(rid, str):
            return
        uids = self.s.bindings.users_of(rid, lambda u: self.s.listens(NOTIFY_USER, f"{u}/rooms-changed"))
        if uids:
            args_json = jsonutil.ejson_dumps([action, room]).decode()
            for uid in uids:
                frame = changed_frame(NOTIFY_USER, f"{uid}/rooms-changed", args_json)
                for conn in self.ddp.subscribers(NOTIFY_USER, f"{uid}/rooms-changed"):
                    conn.send_raw(frame)
        if action == "removed":
            self.s.bindings.drop_room(rid)
            self.s.access.forget(rid=rid)

    # -- users ----------------------------------------------------------------------------------------
    def on_user(self, event: dict) -> None:
        uid, action = event.get("id"), event.get("clientAction")
        if not isinstance(uid, str):
            return
        if action == "inserted":
            payload = {"type": "inserted", "id": uid, "data": _clean_user_fields(event.get("data") or {})}
        elif action == "removed":
            payload = {"type": "removed", "id": uid}
        else:
            payload = {"type": "updated", "id": uid, "diff": _clean_user_fields(event.get("diff") or {}),
                       "unset": _clean_user_fields(event.get("unset") or {})}
        self.ddp.publish(NOTIFY_USER, f"{uid}/userData", [payload])

    def on_user_avatar(self, event: dict) -> None:
        payload = {"username": event.get("username"), "etag": event.get("avatarETag", event.get("etag"))}
        self.ddp.publish(NOTIFY_LOGGED, "updateAvatar", [payload])

    def on_room_avatar(self, event: dict) -> None:
        payload = {"rid": event.get("_id", event.get("rid")), "etag": event.get("avatarETag", event.get("etag"))}
        self.ddp.publish(NOTIFY_LOGGED, "updateAvatar", [payload])

    def on_force_logout(self, event: dict) -> None:
        uid, hashes = event.get("userId"), event.get("tokenHashes")
        if not isinstance(uid, str):
            return
        targets = [c for c in self.s.connections_of(uid)
                   if not isinstance(hashes, list) or c.token_hash in hashes]
        if not targets:
            return
        ids = {c.id for c in targets}
        self.ddp.publish(NOTIFY_USER, f"{uid}/force_logout", [], accept=lambda c: c.id in ids)
        for conn in targets:
            conn.close(LOGOUT_CLOSE, drain=True)

    def on_logout(self, event: dict) -> None:
        """A login token was revoked: sockets still authenticated with it are closed (not the one that
        asked for the logout over DDP: it gets its method result and stays open, logged out)."""
        uid, token_hash = event.get("userId"), event.get("tokenHash")
        if not isinstance(uid, str) or not token_hash:
            return
        for conn in self.s.connections_of(uid):
            if conn.token_hash == token_hash and conn.id != event.get("connectionId"):
                conn.close(LOGOUT_CLOSE, drain=True)

    def on_disconnected(self, event: dict) -> None:
        uid = event.get("userId")
        if isinstance(uid, str) and self.s.bindings.tracked(uid) \
                and not self.s.listens(NOTIFY_USER, f"{uid}/rooms-changed"):
            self.s.bindings.untrack(uid)

    # -- generic mappings -------------------------------------------------------------------------
    def _logged(self, name: str) -> Callable[[Any], None]:
        def handler(payload: Any) -> None:
            self.ddp.publish(NOTIFY_LOGGED, name, [payload])
        return handler

    def _to_user(self, key: str, suffix: str) -> Callable[[Any], None]:
        def handler(payload: Any) -> None:
            uid = payload.get("uid", payload.get("userId")) if isinstance(payload, dict) else None
            if isinstance(uid, str):
                self.ddp.publish(NOTIFY_USER, f"{uid}/{suffix}", [payload.get(key)])
        return handler

    def _apps(self, event: str) -> Callable[[Any], None]:
        kind, _, what = event.partition(".")     # apps.added → app/added, command.added → command/added
        name = ("app" if kind == "apps" else kind) + "/" + what
        def handler(payload: Any) -> None:
            args = payload if isinstance(payload, list) else ([] if payload is None else [payload])
            self.ddp.publish(APPS, "apps", [[name, args]])
        return handler


def _guarded(event: str, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Events come from other services and other processes: a malformed one is dropped with a warning."""
    def run(payload: Any) -> Any:
        if not isinstance(payload, (dict, list)) and payload is not None:
            log.warning("ignored %s event with a %s payload", event, type(payload).__name__)
            return None
        try:
            return handler(payload if payload is not None else {})
        except (AttributeError, KeyError, TypeError, ValueError):
            log.warning("ignored malformed %s event", event, exc_info=True)
            return None
    return run
