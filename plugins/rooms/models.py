"""`rocketchat_room` and `rocketchat_subscription` documents, shaped as Rocket.Chat stores them.

Most access goes through the raw collections (`Room.get_pymongo_collection()`): the documents are
Rocket.Chat's and carry many optional fields. The models declare the shape and the indexes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from beanie import Document
from pydantic import ConfigDict, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class Room(Document):
    """A channel (`c`), private group (`p`) or direct message (`d`).

    Channels and groups share one name space (`name` is unique); direct messages have no `name` (their
    members are in `uids`/`usernames`), which the sparse unique index leaves out.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    t: str
    name: str | None = None
    fname: str | None = None
    u: dict[str, Any] | None = None          # creator {_id, username, name}
    ts: datetime
    msgs: int = 0
    usersCount: int = 0
    ro: bool = False
    archived: bool | None = None
    topic: str | None = None
    description: str | None = None
    announcement: str | None = None
    lm: datetime | None = None
    lastMessage: dict[str, Any] | None = None
    uids: list[str] | None = None            # direct messages
    usernames: list[str] | None = None       # direct messages
    customFields: dict[str, Any] | None = None
    updatedAt: datetime = Field(alias="_updatedAt")

    class Settings:
        name = "rocketchat_room"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("name", ASCENDING)], name="name_1", unique=True, sparse=True),
            IndexModel([("t", ASCENDING)], name="t_1"),
            IndexModel([("uids", ASCENDING)], name="uids_1", sparse=True),
            IndexModel([("_updatedAt", ASCENDING)], name="_updatedAt_1"),
            # a team's rooms (only team rooms have the fields)
            IndexModel([("teamId", ASCENDING), ("teamDefault", ASCENDING)], name="teamId_1_teamDefault_1",
                       sparse=True),
        ]


class Subscription(Document):
    """One user's membership of one room, with its read state (`ls`, `unread`, `alert`, mentions).

    Queries by room alone use the `{rid, u._id}` index (its prefix): a separate `{rid}` index would only
    slow down the bulk counter updates every message causes.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    rid: str
    u: dict[str, Any]                        # {_id, username, name}
    t: str
    name: str | None = None
    fname: str | None = None
    ts: datetime
    ls: datetime | None = None
    open: bool = False
    alert: bool = False
    unread: int = 0
    userMentions: int = 0
    groupMentions: int = 0
    tunread: list[str] | None = None
    roles: list[str] | None = None
    f: bool | None = None
    archived: bool | None = None
    updatedAt: datetime = Field(alias="_updatedAt")

    class Settings:
        name = "rocketchat_subscription"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("rid", ASCENDING), ("u._id", ASCENDING)], name="rid_1_u._id_1", unique=True),
            IndexModel([("u._id", ASCENDING), ("_updatedAt", DESCENDING)], name="u._id_1__updatedAt_-1"),
            # Per-message counters touch only members not yet alerted, and announce
            # only what they changed: these find them without reading every member.
            IndexModel([("rid", ASCENDING), ("alert", ASCENDING), ("u._id", ASCENDING)], name="rid_1_alert_1_u._id_1"),
        ]
