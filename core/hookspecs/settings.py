"""Settings hooks."""
from __future__ import annotations

from typing import Any

from core.hookspecs import hookspec


@hookspec
async def post_setting_changed(setting_id: str, value: Any, previous: Any) -> None:
    """Notified in the background after a setting value is committed. Errors are logged, never raised."""
