"""Rocket.Chat's Block_Multiple_Failed_Logins: failures counted per user and per IP since the last success;
past the limit, a key is blocked until some minutes after its last failure.

Kept in this process's memory (a restart or another process starts from zero); keys are the login name as
typed (lowercased) and the client IP, so an unknown user is throttled exactly like a known one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

MAX_KEYS = 100_000
FORGET_AFTER = 24 * 3600.0


@dataclass
class _Record:
    failures: int = 0
    last_failure: float = 0.0


class FailedLogins:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._keys: dict[tuple[str, str], _Record] = {}

    def blocked(self, kind: str, key: str | None, attempts: int, minutes: float) -> bool:
        if not key or attempts <= 0:
            return False
        rec = self._keys.get((kind, key))
        if rec is None or rec.failures < attempts:
            return False
        return self._clock() < rec.last_failure + minutes * 60

    def failure(self, kind: str, key: str | None) -> None:
        if not key:
            return
        if len(self._keys) >= MAX_KEYS:
            self._sweep()
        rec = self._keys.setdefault((kind, key), _Record())
        rec.failures += 1
        rec.last_failure = self._clock()

    def success(self, kind: str, key: str | None) -> None:
        if key:
            self._keys.pop((kind, key), None)

    def _sweep(self) -> None:
        cutoff = self._clock() - FORGET_AFTER
        self._keys = {k: r for k, r in self._keys.items() if r.last_failure >= cutoff}
        if len(self._keys) >= MAX_KEYS:  # still full: keep the most recent half
            items = sorted(self._keys.items(), key=lambda kv: kv[1].last_failure)
            self._keys = dict(items[len(items) // 2:])
