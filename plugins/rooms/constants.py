"""Names the rooms service shares with Rocket.Chat: permissions, settings, events, hidden fields."""
from __future__ import annotations

ROOMS = "rocketchat_room"
SUBSCRIPTIONS = "rocketchat_subscription"
MESSAGES = "rocketchat_message"
TRASH = "rocketchat__trash"
USERS = "users"

ROOM_EVENT = "watch.rooms"
SUBSCRIPTION_EVENT = "watch.subscriptions"
MESSAGE_EVENT = "watch.messages"
ROLE_UPDATE_EVENT = "user.roleUpdate"
MESSAGES_READ_EVENT = "notify.messagesRead"

# Never sent to a client, in REST, DDP or stream events (Rocket.Chat's `defaultFieldsToExclude`).
HIDDEN_ROOM_FIELDS = frozenset({"joinCode", "members", "importIds", "e2e"})

ROOM_ROLES = ("owner", "moderator", "leader")

# Public user fields for member lists and room creators.
MEMBER_FIELDS = {"_id": 1, "username": 1, "name": 1, "status": 1, "statusText": 1, "utcOffset": 1,
                 "active": 1, "federated": 1}

DEFAULT_NAME_VALIDATION = "[0-9a-zA-Z-_.]+"

# Declared with Rocket.Chat's default roles; the authorization service seeds its own table first and
# keeps it on a clash, so these only fill gaps.
PERMISSIONS = [
    {"_id": "create-c", "roles": ["admin", "user", "bot", "app"]},
    {"_id": "create-p", "roles": ["admin", "user", "bot", "app"]},
    {"_id": "create-d", "roles": ["admin", "user", "bot", "app"]},
    {"_id": "view-c-room", "roles": ["admin", "user", "bot", "app", "anonymous"]},
    {"_id": "view-d-room", "roles": ["admin", "user", "bot", "app", "guest"]},
    {"_id": "view-p-room", "roles": ["admin", "user", "anonymous", "guest"]},
    {"_id": "view-joined-room", "roles": ["guest", "bot", "app", "anonymous"]},
    {"_id": "view-room-administration", "roles": ["admin"]},
    {"_id": "view-broadcast-member-list", "roles": ["admin", "owner", "moderator"]},
    {"_id": "add-user-to-joined-room", "roles": ["admin", "owner", "moderator"]},
    {"_id": "add-user-to-any-c-room", "roles": ["admin"]},
    {"_id": "add-user-to-any-p-room", "roles": []},
    {"_id": "remove-user", "roles": ["admin", "owner", "moderator"]},
    {"_id": "set-owner", "roles": ["admin", "owner"]},
    {"_id": "set-moderator", "roles": ["admin", "owner"]},
    {"_id": "set-leader", "roles": ["admin", "owner"]},
    {"_id": "set-readonly", "roles": ["admin", "owner"]},
    {"_id": "set-react-when-readonly", "roles": ["admin", "owner"]},
    {"_id": "edit-room", "roles": ["admin", "owner", "moderator"]},
    {"_id": "archive-room", "roles": ["admin", "owner"]},
    {"_id": "unarchive-room", "roles": ["admin"]},
    {"_id": "delete-c", "roles": ["admin", "owner"]},
    {"_id": "delete-p", "roles": ["admin", "owner"]},
    {"_id": "delete-d", "roles": ["admin"]},
    {"_id": "leave-c", "roles": ["admin", "user", "bot", "anonymous", "app"]},
    {"_id": "leave-p", "roles": ["admin", "user", "bot", "anonymous", "app"]},
    {"_id": "join-without-join-code", "roles": ["admin", "bot", "app"]},
    {"_id": "send-many-messages", "roles": ["admin", "bot", "app"]},
]

SETTINGS = [
    {"_id": "UTF8_Channel_Names_Validation", "type": "string", "value": DEFAULT_NAME_VALIDATION,
     "group": "General", "section": "UTF8", "i18nLabel": "UTF8_Channel_Names_Validation"},
    {"_id": "DirectMesssage_maxUsers", "type": "int", "value": 8, "group": "Message", "public": True},
    {"_id": "Message_AllowDirectMessagesToYourself", "type": "boolean", "value": True, "group": "Message",
     "public": True},
    {"_id": "Store_Last_Message", "type": "boolean", "value": True, "group": "General", "public": True},
    {"_id": "Unread_Count", "type": "select", "value": "user_and_group_mentions_only", "group": "General",
     "values": [{"key": "all_messages", "i18nLabel": "All_messages"},
                {"key": "user_mentions_only", "i18nLabel": "User_mentions_only"},
                {"key": "group_mentions_only", "i18nLabel": "Group_mentions_only"},
                {"key": "user_and_group_mentions_only", "i18nLabel": "User_and_group_mentions_only"}]},
    {"_id": "Unread_Count_DM", "type": "select", "value": "all_messages", "group": "General",
     "values": [{"key": "all_messages", "i18nLabel": "All_messages"},
                {"key": "mentions_only", "i18nLabel": "Mentions_only"}]},
]
