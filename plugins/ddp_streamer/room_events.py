"""Room and message events → `stream-room-messages`, `stream-notify-room` and the per-user room streams
(`subscriptions-changed`, `rooms-changed`, ephemeral `message`)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core import jsonutil
from core.context import random_id
from plugins.ddp_streamer.service import changed_frame
from plugins.ddp_streamer.streams import MY_MESSAGES, NOTIFY_ROOM, NOTIFY_USER, ROOM_MESSAGES

if TYPE_CHECKING:
    from plugins.ddp_streamer.service import StreamerService

log = logging.getLogger("orbitchat.ddp_streamer")

ACTIVITIES = frozenset({"user-typing", "user-recording", "user-uploading"})

ROOM_SECRETS = ("joinCode",)   # never published (Rocket.Chat strips it from every room it sends)


class RoomEvents:
    def __init__(self, service: StreamerService) -> None:
        self.s = service

    @property
    def ddp(self) -> Any:
        return self.s.api.ddp

    def handlers(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "watch.messages": self.on_message,
            "watch.subscriptions": self.on_subscription,
            "watch.rooms": self.on_room,
            "notify.ephemeralMessage": self.on_ephemeral,
            "notify.deleteMessage": self.on_delete_message,
            "notify.deleteMessageBulk": self.on_delete_bulk,
            "notify.messagesRead": self.on_messages_read,
            "user.activity": self.on_activity,
        }

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
        room = await self.s.api.db["rocketchat_room"].find_one({"_id": rid}, {f: 0 for f in ROOM_SECRETS})
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
        # Events from StreamHub carry whole documents: what clients must never see is removed here.
        room = {k: v for k, v in (event.get("room") or {}).items() if k not in ROOM_SECRETS}
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
