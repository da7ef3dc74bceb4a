"""Broker events → stream events (Rocket.Chat's ListenersModule). Every process maps the events it receives
to its own local subscribers only; the broker transport already carries events to every process."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from plugins.ddp_streamer.room_events import RoomEvents
from plugins.ddp_streamer.streams import (
    APPS,
    NOTIFY_ALL,
    NOTIFY_LOGGED,
    NOTIFY_USER,
    ROLES,
    STREAMS,
    USER_PRESENCE,
)

if TYPE_CHECKING:
    from plugins.ddp_streamer.service import StreamerService

log = logging.getLogger("orbitchat.ddp_streamer")

STATUS_CODES = {"offline": 0, "online": 1, "away": 2, "busy": 3}
SETTING_FIELDS = ("_id", "value", "editor", "properties", "enterprise", "requiredOnWizard")
LOGOUT_CLOSE = 1002     # what ddp-streamer closes a logged-out socket with
LOGGED_EVENTS = {       # broker event → notify-logged event; payload sent as the single argument
    "user.nameChanged": "Users:NameChanged",
    "user.deleted": "Users:Deleted",
    "user.roleUpdate": "roles-change",
}
WRAPPED_EVENTS = {      # broker event → (stream, event, key the payload is wrapped under unless already)
    "emoji.updateCustom": (NOTIFY_LOGGED, "updateEmojiCustom", "emojiData"),
    "emoji.deleteCustom": (NOTIFY_LOGGED, "deleteEmojiCustom", "emojiData"),
    "user.updateCustomStatus": (NOTIFY_LOGGED, "updateCustomUserStatus", "userStatusData"),
    "user.deleteCustomStatus": (NOTIFY_LOGGED, "deleteCustomUserStatus", "userStatusData"),
    "notify.updateCustomSound": (NOTIFY_ALL, "updateCustomSound", "soundData"),
    "notify.deleteCustomSound": (NOTIFY_ALL, "deleteCustomSound", "soundData"),
    "banner.new": (NOTIFY_LOGGED, "banner-changed", "bannerId"),
    "banner.enabled": (NOTIFY_LOGGED, "banner-changed", "bannerId"),
    "banner.disabled": (NOTIFY_LOGGED, "banner-changed", "bannerId"),
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
        self.rooms = RoomEvents(service)
        self._unsubscribe: list[Callable[[], None]] = []

    def handlers(self) -> dict[str, Callable[[Any], Any]]:
        table: dict[str, Callable[[Any], Any]] = {
            **self.rooms.handlers(),
            "watch.settings": self.on_setting,
            "presence.status": self.on_presence,
            "watch.users": self.on_user,
            "watch.roles": self.on_role,
            "permission.changed": self.on_permission,
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
        for event, (stream, name, key) in WRAPPED_EVENTS.items():
            table[event] = self._wrapped(stream, name, key, legacy="new-banner" if event == "banner.new" else None)
        for event in APPS_EVENTS:
            table[event] = self._apps(event)
        table["stream"] = self.on_stream
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

    def _wrapped(self, stream: str, name: str, key: str, legacy: str | None = None) -> Callable[[Any], None]:
        def handler(payload: Any) -> None:
            arg = payload if isinstance(payload, dict) and key in payload else {key: payload}
            self.ddp.publish(stream, name, [arg])
            if legacy:
                self.ddp.publish(stream, legacy, [arg])
        return handler

    def on_stream(self, payload: Any) -> None:
        """`stream [streamer, eventName, args]`: a service's own stream event, relayed to local subscribers
        of a stream this plugin declares."""
        if not isinstance(payload, list) or len(payload) != 3:
            return
        streamer, event_name, args = payload
        if not isinstance(streamer, str) or not isinstance(event_name, str) or not isinstance(args, list):
            return
        name = streamer if streamer.startswith("stream-") else f"stream-{streamer}"
        if name in STREAMS and name != USER_PRESENCE:
            self.ddp.publish(name, event_name, args)

    def _apps(self, event: str) -> Callable[[Any], None]:
        kind, _, what = event.partition(".")     # apps.added → app/added, command.added → command/added
        name = ("app" if kind == "apps" else kind) + "/" + what

        def handler(payload: Any) -> None:
            args = payload if isinstance(payload, list) else ([] if payload in (None, {}) else [payload])
            if event in ("apps.statusUpdate", "apps.settingUpdated") and len(args) == 2:
                key = "status" if event == "apps.statusUpdate" else "setting"
                args = [{"appId": args[0], key: args[1]}]
            self.ddp.publish(APPS, "apps", [[name, args]])
            self.ddp.publish(APPS, name, args)   # the legacy per-event names
        return handler

def _guarded(event: str, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Events come from other services and other processes: a malformed one is dropped with a warning."""
    scalars_ok = event.startswith(("apps.", "command.", "actions.", "banner.", "emoji."))  # `apps.added(appId)`

    def run(payload: Any) -> Any:
        if not isinstance(payload, (dict, list)) and payload is not None and not scalars_ok:
            log.warning("ignored %s event with a %s payload", event, type(payload).__name__)
            return None
        try:
            return handler(payload if payload is not None else {})
        except (AttributeError, KeyError, TypeError, ValueError):
            log.warning("ignored malformed %s event", event, exc_info=True)
            return None
    return run
