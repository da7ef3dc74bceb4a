"""Names messaging shares with Rocket.Chat: collections, events, settings, permissions, message types."""
from __future__ import annotations

MESSAGES = "rocketchat_message"
ROOMS = "rocketchat_room"
SUBSCRIPTIONS = "rocketchat_subscription"
USERS = "users"
TRASH = "rocketchat__trash"

MESSAGE_EVENT = "watch.messages"
DELETE_EVENT = "notify.deleteMessage"
EPHEMERAL_EVENT = "notify.ephemeralMessage"

# Rocket.Chat's system message types (`MessageTypes.isSystemMessage`): clients may never send these.
SYSTEM_TYPES = (
    "r", "au", "ru", "ul", "ui", "uj", "ujt", "ult", "ut", "wm", "rm", "user-muted", "user-unmuted",
    "subscription-role-added", "subscription-role-removed", "room-archived", "room-unarchived",
    "room_changed_privacy", "room_changed_avatar", "room_changed_topic", "room_changed_description",
    "room_changed_announcement", "room_e2e_enabled", "room_e2e_disabled", "room-removed-read-only",
    "room-set-read-only", "room-allowed-reacting", "room-disallowed-reacting", "message_pinned",
    "message_snippeted", "discussion-created", "added-user-to-team", "removed-user-from-team",
    "user-added-room-to-team", "user-deleted-room-from-team", "user-removed-room-from-team",
    "user-converted-to-team", "user-converted-to-channel", "livechat-close", "livechat-started",
    "command", "videoconf", "message_pinned_e2e",
)
# Types a client may set on its own message (end-to-end encrypted payloads).
CLIENT_TYPES = ("e2e",)

SETTINGS = [
    {"_id": "Message_MaxAllowedSize", "type": "int", "value": 5000, "group": "Message", "public": True},
    {"_id": "Message_AllowEditing", "type": "boolean", "value": True, "group": "Message", "public": True},
    {"_id": "Message_AllowEditing_BlockEditInMinutes", "type": "int", "value": 0, "group": "Message",
     "public": True},
    {"_id": "Message_AllowDeleting", "type": "boolean", "value": True, "group": "Message", "public": True},
    {"_id": "Message_AllowDeleting_BlockDeleteInMinutes", "type": "int", "value": 0, "group": "Message",
     "public": True},
    {"_id": "Message_AllowPinning", "type": "boolean", "value": True, "group": "Message", "public": True},
    {"_id": "Message_AllowStarring", "type": "boolean", "value": True, "group": "Message", "public": True},
    {"_id": "Message_KeepHistory", "type": "boolean", "value": False, "group": "Message", "public": True},
    {"_id": "Message_ShowDeletedStatus", "type": "boolean", "value": False, "group": "Message",
     "public": True},
    {"_id": "Message_CustomFields_Enabled", "type": "boolean", "value": False, "group": "Message"},
    {"_id": "Message_CustomFields", "type": "code", "value": "", "group": "Message"},
    {"_id": "Threads_enabled", "type": "boolean", "value": True, "group": "Threads", "public": True},
    {"_id": "Hide_System_Messages", "type": "multiSelect", "value": [], "group": "Message", "public": True,
     "values": [{"key": t, "i18nLabel": t} for t in ("uj", "ul", "ru", "au", "mute_unmute", "r", "ut", "wm",
                                                     "rm", "subscription_role_changed", "room_archived",
                                                     "room_unarchived", "room_changed_privacy",
                                                     "room_changed_avatar", "room_changed_topic",
                                                     "room_e2e_enabled", "room_e2e_disabled")]},
]

# Declared with Rocket.Chat's default roles; the authorization service's own table wins on a clash.
PERMISSIONS = [
    {"_id": "delete-message", "roles": ["admin", "owner", "moderator"]},
    {"_id": "delete-own-message", "roles": ["admin", "user"]},
    {"_id": "edit-message", "roles": ["admin", "owner", "moderator"]},
    {"_id": "force-delete-message", "roles": ["admin", "owner"]},
    {"_id": "bypass-time-limit-edit-and-delete", "roles": ["bot", "app"]},
    {"_id": "message-impersonate", "roles": ["bot", "app"]},
    {"_id": "pin-message", "roles": ["owner", "moderator", "admin"]},
    {"_id": "post-readonly", "roles": ["admin", "owner", "moderator"]},
    {"_id": "send-many-messages", "roles": ["admin", "bot", "app"]},
    {"_id": "mention-all", "roles": ["admin", "owner", "moderator", "user"]},
    {"_id": "mention-here", "roles": ["admin", "owner", "moderator", "user"]},
    {"_id": "preview-c-room", "roles": ["admin", "user", "anonymous"]},
]

# DDP sendMessage: 5 messages a second per user unless `send-many-messages` (Rocket.Chat's limiter).
SEND_RATE = (5, 1000)
