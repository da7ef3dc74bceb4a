"""The kernel's read view of settings: declared defaults, persisted values and environment overrides.

The settings plugin owns persistence and the admin API; it feeds committed values in through `apply`.
Without it the view still answers with the declared package values, so the kernel works on its own.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("orbitchat.settings")

SETTING_TYPES = frozenset({
    "boolean", "string", "int", "select", "multiSelect", "code", "color", "font", "action", "password",
    "relativeUrl", "language", "roomPick", "asset", "timespan", "lookup", "date", "group",
})


def coerce_env(kind: str, raw: str) -> Any:
    """Environment values are strings; give them the setting's type."""
    if kind == "boolean":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in ("int", "timespan"):
        return int(raw)
    return raw


class SettingsView:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.definitions: dict[str, dict[str, Any]] = {}
        self._values: dict[str, Any] = {}
        self._env = env or {}
        self._listeners: list[Callable[[str, Any, Any], None]] = []

    def declare(self, definition: dict[str, Any], owner: str) -> None:
        sid = definition.get("_id")
        if not isinstance(sid, str) or not sid:
            raise ValueError(f"{owner}: a setting declaration needs an _id")
        if sid in self.definitions:
            log.warning("setting %s declared again by %s; keeping %s's", sid, owner, self.definitions[sid]["owner"])
            return
        kind = definition.get("type", "string")
        if kind not in SETTING_TYPES:
            raise ValueError(f"{owner}: setting {sid} has unknown type {kind!r}")
        d = {"public": False, "hidden": False, "blocked": False, "group": "General", **definition,
             "type": kind, "owner": owner}
        self.definitions[sid] = d
        if sid not in self._values:
            self._values[sid] = self.override(sid, d["value"])

    def override(self, sid: str, value: Any) -> Any:
        """`OVERWRITE_SETTING_<id>` always wins over stored and default values."""
        raw = self._env.get(f"OVERWRITE_SETTING_{sid}")
        if raw is None:
            return value
        kind = self.definitions.get(sid, {}).get("type", "string")
        try:
            return coerce_env(kind, raw)
        except ValueError:
            log.error("OVERWRITE_SETTING_%s=%r is not a valid %s; ignored", sid, raw, kind)
            return value

    def initial_from_env(self, sid: str) -> Any | None:
        raw = self._env.get(sid)
        if raw is None or sid not in self.definitions:
            return None
        try:
            return coerce_env(self.definitions[sid]["type"], raw)
        except ValueError:
            return None

    def get(self, sid: str, default: Any = None) -> Any:
        return self._values.get(sid, default)

    def __contains__(self, sid: str) -> bool:
        return sid in self.definitions

    def apply(self, sid: str, value: Any) -> None:
        """Record a committed value (from the store or another process) and tell local listeners."""
        value = self.override(sid, value)
        previous = self._values.get(sid)
        self._values[sid] = value
        if previous != value:
            for listener in list(self._listeners):
                try:
                    listener(sid, value, previous)
                except Exception:
                    log.exception("settings listener failed for %s", sid)

    def on_change(self, listener: Callable[[str, Any, Any], None]) -> None:
        self._listeners.append(listener)
