"""`rocketchat_settings` documents, shaped as Rocket.Chat stores them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import ConfigDict, Field


class Setting(Document):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str  # the setting name; beanie maps it to `_id`
    type: str
    value: Any = None
    packageValue: Any = None
    valueSource: str = "packageValue"
    public: bool = False
    hidden: bool = False
    blocked: bool = False
    group: str = "General"
    section: str | None = None
    i18nLabel: str | None = None
    i18nDescription: str | None = None
    values: list[dict] | None = None
    sorter: int = 0
    ts: datetime
    createdAt: datetime
    updatedAt: datetime = Field(alias="_updatedAt")

    class Settings:
        name = "rocketchat_settings"
