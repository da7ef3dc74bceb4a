"""Rocket.Chat's presence rules, case by case (processConnectionStatus / processStatus / ...)."""
from datetime import UTC, datetime, timedelta

import pytest

from plugins.presence.status import (
    STATUS_CODES,
    normalize_status_text,
    process_connection_status,
    process_presence_and_status,
    process_status,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)
STALE = timedelta(minutes=5)


def conn(status: str, age_s: float = 0) -> dict:
    return {"id": "c", "instanceId": "i", "status": status, "_updatedAt": NOW - timedelta(seconds=age_s)}


@pytest.mark.parametrize("current,status,expected", [
    ("offline", "online", "online"), ("offline", "away", "away"), ("away", "online", "online"),
    ("online", "away", "online"), ("away", "offline", "away"), ("offline", "offline", "offline"),
])
def test_connection_status_fold(current, status, expected):
    assert process_connection_status(current, status) == expected


@pytest.mark.parametrize("connection,default,expected", [
    ("offline", "online", "offline"), ("offline", "busy", "offline"), ("offline", "away", "offline"),
    ("online", "online", "online"), ("away", "online", "away"),
    ("online", "busy", "busy"), ("away", "busy", "busy"), ("online", "away", "away"),
    ("online", "offline", "offline"), ("away", "offline", "offline"),
])
def test_effective_status(connection, default, expected):
    assert process_status(connection, default) == expected


@pytest.mark.parametrize("conns,default,expected", [
    ([], "online", ("offline", "offline")),
    ([conn("online")], "online", ("online", "online")),
    ([conn("away")], "online", ("away", "away")),
    ([conn("away"), conn("online")], "online", ("online", "online")),
    ([conn("away"), conn("away")], "busy", ("busy", "away")),
    ([conn("online")], "offline", ("offline", "online")),
    ([conn("online")], None, ("online", "online")),
    ([conn("online", age_s=301)], "online", ("offline", "offline")),          # not refreshed: not counted
    ([conn("online", age_s=301), conn("away", age_s=10)], "online", ("away", "away")),
])
def test_presence_and_status(conns, default, expected):
    assert process_presence_and_status(conns, default, NOW, STALE) == expected


def test_status_text_is_trimmed_and_cut_to_120():
    assert normalize_status_text("  lunch  ") == "lunch"
    assert normalize_status_text("x" * 200) == "x" * 120


def test_stream_codes():
    assert STATUS_CODES == {"offline": 0, "online": 1, "away": 2, "busy": 3}
