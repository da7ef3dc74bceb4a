"""Names the teams service shares with Rocket.Chat: collections, team types, roles, permissions."""
from __future__ import annotations

TEAMS = "rocketchat_team"
MEMBERS = "rocketchat_team_member"
ROOMS = "rocketchat_room"
SUBSCRIPTIONS = "rocketchat_subscription"
USERS = "users"

PUBLIC, PRIVATE = 0, 1           # Rocket.Chat's TEAM_TYPE
ROOM_TYPE = {PUBLIC: "c", PRIVATE: "p"}

# Roles a team member may hold. The room-scoped ones are mirrored onto the main room's subscription, where
# permission checks scoped to the team (`rid` = main room) find them; `member` is a team-only label.
ROOM_ROLES = ("owner", "moderator", "leader")
TEAM_ROLES = (*ROOM_ROLES, "member")

# Never sent to a client (Rocket.Chat's `defaultFieldsToExclude` for rooms).
HIDDEN_ROOM_FIELDS = frozenset({"joinCode", "members", "importIds", "e2e"})

# Public user fields for member lists.
MEMBER_USER_FIELDS = {"_id": 1, "username": 1, "name": 1, "status": 1}

# Declared with Rocket.Chat's default roles; the authorization service keeps its own table on a clash.
PERMISSIONS = [
    {"_id": "create-team", "roles": ["admin", "user"]},
    {"_id": "delete-team", "roles": ["admin", "owner"]},
    {"_id": "convert-team", "roles": ["admin", "owner"]},
    {"_id": "edit-team", "roles": ["admin", "owner"]},
    {"_id": "add-team-member", "roles": ["admin", "owner", "moderator"]},
    {"_id": "edit-team-member", "roles": ["admin", "owner", "moderator"]},
    {"_id": "move-room-to-team", "roles": ["admin", "owner", "moderator"]},
    {"_id": "create-team-channel", "roles": ["admin", "owner", "moderator"]},
    {"_id": "create-team-group", "roles": ["admin", "owner", "moderator"]},
    {"_id": "delete-team-channel", "roles": ["admin", "owner", "moderator"]},
    {"_id": "delete-team-group", "roles": ["admin", "owner", "moderator"]},
    {"_id": "edit-team-channel", "roles": ["admin", "owner", "moderator"]},
    {"_id": "remove-team-channel", "roles": ["admin", "owner", "moderator"]},
    {"_id": "view-all-team-channels", "roles": ["admin", "owner"]},
    {"_id": "view-all-teams", "roles": ["admin"]},
]
