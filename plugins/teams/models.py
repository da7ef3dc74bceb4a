"""`rocketchat_team` and `rocketchat_team_member` documents, shaped as Rocket.Chat stores them.

Access goes through the raw collections; the models declare the shape and the indexes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from beanie import Document
from pydantic import ConfigDict, Field
from pymongo import ASCENDING, IndexModel


class Team(Document):
    """A team: a name, a type (0 public, 1 private) and its main room (`roomId`, a room with `teamMain`)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    name: str
    type: int
    roomId: str
    createdBy: dict[str, Any]               # {_id, username}
    createdAt: datetime
    updatedAt: datetime = Field(alias="_updatedAt")

    class Settings:
        name = "rocketchat_team"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("name", ASCENDING)], name="name_1", unique=True),
            IndexModel([("roomId", ASCENDING)], name="roomId_1"),
            IndexModel([("type", ASCENDING)], name="type_1"),
        ]


class TeamMember(Document):
    """One user's membership of one team, with the team roles (`owner`, `moderator`, ...) it holds."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    teamId: str
    userId: str
    roles: list[str] | None = None
    createdBy: dict[str, Any]               # {_id, username} of whoever added the member
    createdAt: datetime
    updatedAt: datetime = Field(alias="_updatedAt")

    class Settings:
        name = "rocketchat_team_member"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("teamId", ASCENDING), ("userId", ASCENDING)], name="teamId_1_userId_1", unique=True),
            IndexModel([("userId", ASCENDING)], name="userId_1"),
            IndexModel([("teamId", ASCENDING), ("roles", ASCENDING)], name="teamId_1_roles_1"),
        ]
