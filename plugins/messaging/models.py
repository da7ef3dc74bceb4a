"""`rocketchat_message` documents, shaped as Rocket.Chat stores them, and the indexes history needs.

Hot paths use the raw collection (`Message.get_pymongo_collection()`); the model declares the shape and
the indexes. Every history query is a range on the second field of one of these compound indexes
(`{rid, ts}`, `{rid, _updatedAt}`, `{tmid, ts}`, `{rid, tlm}`): the embedded engine reads only the index
range it is given and does not stop at `limit`, so the range is what bounds the work.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import ConfigDict, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

PINNED_INDEX = "rid_1_pinned_1_ts_-1_pinned"
RETIRED_INDEXES = ("rid_1_pinned_1_ts_-1",)   # the same keys over every message, before PINNED_INDEX


class Message(Document):
    """A message: user text, or a system message when `t` is set (`uj`, `ul`, `rm`, `message_pinned`...)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    rid: str
    msg: str = ""
    ts: datetime
    u: dict[str, Any]                                   # {_id, username, name}
    updatedAt: datetime = Field(alias="_updatedAt")
    t: str | None = None
    groupable: bool | None = None
    mentions: list[dict[str, Any]] = Field(default_factory=list)   # [{_id, username, name?, type}]
    channels: list[dict[str, Any]] = Field(default_factory=list)   # [{_id, name}]
    md: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    blocks: list[dict[str, Any]] | None = None
    alias: str | None = None
    emoji: str | None = None
    avatar: str | None = None
    bot: dict[str, Any] | None = None
    tmid: str | None = None                             # thread parent
    tshow: bool | None = None
    tcount: int | None = None                           # replies (on a thread parent)
    tlm: datetime | None = None                         # last reply
    replies: list[str] | None = None                    # follower user ids
    reactions: dict[str, dict[str, list[str]]] | None = None   # {":emoji:": {usernames: [...]}}
    pinned: bool | None = None
    pinnedAt: datetime | None = None
    pinnedBy: dict[str, Any] | None = None
    starred: list[dict[str, str]] | None = None         # [{_id: user id}]
    editedAt: datetime | None = None
    editedBy: dict[str, Any] | None = None
    customFields: dict[str, Any] | None = None
    file: dict[str, Any] | None = None
    files: list[dict[str, Any]] | None = None
    hidden: bool | None = Field(default=None, alias="_hidden")     # edit history copies
    parent: str | None = None                           # for edit history copies: the edited message

    class Settings:
        name = "rocketchat_message"
        indexes = [  # noqa: RUF012 (beanie reads it as a class attribute)
            IndexModel([("rid", ASCENDING), ("ts", DESCENDING)], name="rid_1_ts_-1"),
            IndexModel([("rid", ASCENDING), ("_updatedAt", ASCENDING)], name="rid_1__updatedAt_1"),
            IndexModel([("tmid", ASCENDING), ("ts", ASCENDING)], name="tmid_1_ts_1"),
            IndexModel([("rid", ASCENDING), ("tlm", DESCENDING)], name="rid_1_tlm_-1"),
            # Only pinned messages: most messages never are, and each index entry costs every insert.
            IndexModel([("rid", ASCENDING), ("pinned", ASCENDING), ("ts", DESCENDING)],
                       name=PINNED_INDEX, partialFilterExpression={"pinned": True}),
            IndexModel([("rid", ASCENDING), ("file._id", ASCENDING)], name="rid_1_file._id_1"),
            IndexModel([("u._id", ASCENDING)], name="u._id_1"),
            IndexModel([("mentions._id", ASCENDING)], name="mentions._id_1", sparse=True),
            IndexModel([("starred._id", ASCENDING)], name="starred._id_1", sparse=True),
        ]
