"""Rocket.Chat's presence rules as pure functions: connection status, effective status, status text.

Mirrors `ee/packages/presence` (processConnectionStatus / processStatus / processPresenceAndStatus /
normalizeStatusText) so a user shows the same status here as on a Rocket.Chat server.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

ONLINE, AWAY, BUSY, OFFLINE = "online", "away", "busy", "offline"
USER_STATUSES = (ONLINE, AWAY, BUSY, OFFLINE)      # what a user may choose (offline = invisible)
CONNECTION_STATUSES = (ONLINE, AWAY)               # what one session reports
STATUS_TEXT_MAX_LENGTH = 120

# The numbers `stream-notify-logged` `user-status` and `stream-user-presence` carry.
STATUS_CODES = {OFFLINE: 0, ONLINE: 1, AWAY: 2, BUSY: 3}


def process_connection_status(current: str, status: str) -> str:
    """Fold one connection's status into the best so far: online beats away beats offline."""
    if current == ONLINE:
        return ONLINE
    if status != OFFLINE:
        return status
    return current


def process_status(status_connection: str, status_default: str) -> str:
    """The status others see: offline without a live connection; otherwise the user's choice, where
    'online' means "whatever my connections say" (so auto-away shows), and 'offline' is invisible."""
    if status_connection == OFFLINE:
        return OFFLINE
    if status_default == ONLINE:
        return status_connection
    return status_default


def is_fresh(connection: Mapping[str, Any], now: datetime, stale_after: timedelta) -> bool:
    """A connection counts only while its process keeps refreshing it (Rocket.Chat: within 5 minutes)."""
    updated = connection.get("_updatedAt")
    return isinstance(updated, datetime) and now - updated <= stale_after


def process_presence_and_status(connections: Iterable[Mapping[str, Any]], status_default: str | None,
                                now: datetime, stale_after: timedelta) -> tuple[str, str]:
    """Return `(status, statusConnection)` from a user's connections and chosen default status."""
    status_connection = OFFLINE
    for conn in connections:
        if is_fresh(conn, now, stale_after):
            status_connection = process_connection_status(status_connection, conn.get("status") or OFFLINE)
    return process_status(status_connection, status_default or ONLINE), status_connection


def normalize_status_text(text: str) -> str:
    return text.strip()[:STATUS_TEXT_MAX_LENGTH]
