"""`rocketchat_roles` and `rocketchat_permissions` documents, shaped as Rocket.Chat stores them."""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from beanie import Document
from pydantic import ConfigDict, Field
from pymongo import IndexModel


class Role(Document):
    """A role. Default roles use their name as `_id`; roles created later get a random id."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    name: str
    description: str = ""
    protected: bool = False
    scope: str = "Users"          # "Users" (global, in users.roles) | "Subscriptions" (per room)
    mandatory2fa: bool = False
    updatedAt: datetime = Field(alias="_updatedAt")

    class Settings:
        name = "rocketchat_roles"
        indexes: ClassVar[list[IndexModel]] = [IndexModel([("name", 1)], unique=True)]


class Permission(Document):
    """A permission (its name is the `_id`) and the role ids that hold it."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    roles: list[str] = Field(default_factory=list)
    updatedAt: datetime = Field(alias="_updatedAt")

    class Settings:
        name = "rocketchat_permissions"
