"""Fixed-window rate limiter keyed by (rule, client), as Rocket.Chat's DDPRateLimiter counts calls."""
from __future__ import annotations

import time


class RateLimiter:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: dict[tuple, tuple[float, int]] = {}
        self._max_keys = max_keys

    def hit(self, key: tuple, calls: int, interval_ms: int) -> tuple[bool, int, int]:
        """Count one call. Returns (allowed, remaining, reset_epoch_ms)."""
        now = time.time() * 1000
        start, used = self._windows.get(key, (now, 0))
        if now - start >= interval_ms:
            start, used = now, 0
        used += 1
        if len(self._windows) >= self._max_keys and key not in self._windows:
            self._sweep(now, interval_ms)
        self._windows[key] = (start, used)
        reset = int(start + interval_ms)
        return used <= calls, max(0, calls - used), reset

    def _sweep(self, now: float, interval_ms: int) -> None:
        self._windows = {k: v for k, v in self._windows.items() if now - v[0] < interval_ms}
        if len(self._windows) >= self._max_keys:  # still full: drop the oldest half
            items = sorted(self._windows.items(), key=lambda kv: kv[1][0])
            self._windows = dict(items[len(items) // 2:])
