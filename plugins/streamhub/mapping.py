"""Change-stream documents → Rocket.Chat broker events (the DB watchers of Rocket.Chat's StreamHub)."""
from __future__ import annotations

from typing import Any

WATCHED = {
    "rocketchat_message": "watch.messages",
    "rocketchat_room": "watch.rooms",
    "rocketchat_subscription": "watch.subscriptions",
    "users": "watch.users",
    "rocketchat_settings": "watch.settings",
    "rocketchat_roles": "watch.roles",
    "rocketchat_permissions": "permission.changed",
}
ACTIONS = {"insert": "inserted", "update": "updated", "replace": "updated", "delete": "removed"}
_USER_HIDDEN = ("services",)


def to_event(change: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The broker event for one change, or None when it is not something clients see."""
    coll = (change.get("ns") or {}).get("coll")
    event = WATCHED.get(coll)
    action = ACTIONS.get(change.get("operationType"))
    if event is None or action is None:
        return None
    key = (change.get("documentKey") or {}).get("_id")
    doc = change.get("fullDocument")
    if action != "removed" and doc is None:
        return None          # updated then deleted before the lookup: the delete follows
    if coll == "users":
        if action == "removed":
            return event, {"clientAction": "removed", "id": key}
        if action == "inserted":
            return event, {"clientAction": "inserted", "id": key,
                           "data": {k: v for k, v in doc.items() if k not in _USER_HIDDEN}}
        desc = change.get("updateDescription") or {}
        diff = {k: v for k, v in (desc.get("updatedFields") or {}).items() if not k.startswith("services")}
        unset = {k: 1 for k in desc.get("removedFields") or [] if not k.startswith("services")}
        if not diff and not unset:
            return None
        return event, {"clientAction": "updated", "id": key, "diff": diff, "unset": unset}
    body = doc if doc is not None else {"_id": key}
    if coll == "rocketchat_settings":
        if set((change.get("updateDescription") or {}).get("updatedFields") or {}) <= {"_updatedAt"} \
                and action == "updated":
            return None      # Rocket.Chat ignores _updatedAt-only diffs
        return event, {"clientAction": action, "setting": {k: body.get(k) for k in ("_id", "value", "editor",
                                                                                   "public") if k in body}}
    if coll == "rocketchat_permissions":
        return event, {"clientAction": action, "data": body}
    noun = {"watch.messages": "message", "watch.rooms": "room", "watch.subscriptions": "subscription",
            "watch.roles": "role"}[event]
    return event, {"clientAction": action, noun: body}
