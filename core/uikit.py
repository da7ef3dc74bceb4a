"""The value a core service registers to answer UIKit interactions for its own app id."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[dict, Any], Awaitable[dict | None]]
KINDS = ("blockAction", "viewSubmit", "viewClosed", "actionButton")


@dataclass
class CoreApp:
    app_id: str
    block_action: Handler | None = None
    view_submit: Handler | None = None
    view_closed: Handler | None = None
    action_button: Handler | None = None
    owner: str = ""

    def handler(self, kind: str) -> Handler | None:
        return {"blockAction": self.block_action, "viewSubmit": self.view_submit,
                "viewClosed": self.view_closed, "actionButton": self.action_button}.get(kind)
