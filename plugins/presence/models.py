"""`usersSessions` documents, shaped as Rocket.Chat stores them (the presence service owns the collection)."""
from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field
from pymongo import ASCENDING, IndexModel


class Connection(BaseModel):
    """One logged-in DDP session: `id` is the DDP session id, `instanceId` the process holding it."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    instanceId: str
    status: str = "online"   # online | away (the session's auto-away state)
    createdAt: datetime = Field(alias="_createdAt")
    updatedAt: datetime = Field(alias="_updatedAt")   # refreshed periodically by the owning process


class UsersSession(Document):
    """The connections of one user (`_id` is the user id). Written through the raw collection; the
    model declares the shape and the indexes the refresh and the reaper use."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    connections: list[Connection] = Field(default_factory=list)

    class Settings:
        name = "usersSessions"
        indexes = [  # noqa: RUF012 - beanie reads this class attribute
            IndexModel([("connections.id", ASCENDING)], name="connections.id_1", sparse=True),
            IndexModel([("connections.instanceId", ASCENDING)], name="connections.instanceId_1", sparse=True),
            IndexModel([("connections._updatedAt", ASCENDING)], name="connections._updatedAt_1", sparse=True),
        ]
