"""`users` documents, shaped as Rocket.Chat stores them (the accounts service owns the collection)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from beanie import Document
from pydantic import ConfigDict, Field
from pymongo import ASCENDING, IndexModel


class User(Document):
    """One account. Most access goes through the raw collection (`User.get_pymongo_collection()`) because
    the documents are Rocket.Chat's and carry many optional fields; the model declares the shape and the
    indexes."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str  # Meteor-style 17-character id, stored as `_id`
    username: str | None = None
    name: str | None = None
    type: str = "user"  # user | bot | app
    emails: list[dict[str, Any]] = Field(default_factory=list)  # [{address, verified}]
    active: bool = True
    roles: list[str] = Field(default_factory=list)
    status: str = "offline"
    statusConnection: str = "offline"
    statusDefault: str = "online"
    statusText: str | None = None
    utcOffset: float = 0
    createdAt: datetime
    updatedAt: datetime = Field(alias="_updatedAt")
    # services.password.bcrypt, services.resume.loginTokens[{when, hashedToken, type?, name?, ...}]
    services: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "users"
        indexes: ClassVar[list[IndexModel]] = [
            IndexModel([("username", ASCENDING)], name="username_1", unique=True, sparse=True),
            IndexModel([("emails.address", ASCENDING)], name="emails.address_1", unique=True, sparse=True),
            IndexModel([("services.resume.loginTokens.hashedToken", ASCENDING)],
                       name="services.resume.loginTokens.hashedToken_1"),
            IndexModel([("roles", ASCENDING)], name="roles_1", sparse=True),
        ]
