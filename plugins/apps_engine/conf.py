"""The apps engine's settings (declared by the plugin, read live from the settings view)."""
from __future__ import annotations

from typing import Any

from plugins.apps_engine.package import MB, PackageLimits
from sandbox.host import Limits

GROUP = {"group": "General", "section": "Apps"}
SETTINGS = [
    {"_id": "Apps_Framework_enabled", "type": "boolean", "value": True, "public": True},
    {"_id": "Apps_Package_Max_Size_MB", "type": "int", "value": 10},
    {"_id": "Apps_Package_Max_Uncompressed_MB", "type": "int", "value": 50},
    {"_id": "Apps_Package_Max_Files", "type": "int", "value": 2000},
    # Private, loopback and link-local addresses for the http accessor and installs from a URL.
    {"_id": "Apps_Allow_Private_Network", "type": "boolean", "value": False},
    {"_id": "Apps_Call_Timeout_Ms", "type": "int", "value": 2000},
    {"_id": "Apps_Memory_Limit_MB", "type": "int", "value": 256},
    {"_id": "Apps_Ping_Interval_Seconds", "type": "int", "value": 5},
    # Run apps where the host lacks a confinement mechanism (the sandbox refuses them otherwise).
    {"_id": "Apps_Allow_Unconfined", "type": "boolean", "value": False},
    {"_id": "Apps_Http_Timeout_Ms", "type": "int", "value": 10000},
    {"_id": "Apps_Http_Max_Response_KB", "type": "int", "value": 5120},
]


def declarations() -> list[dict[str, Any]]:
    return [{**GROUP, **s} for s in SETTINGS]


class EngineConf:
    """Typed, live view of the settings above."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings

    def _int(self, sid: str, default: int, low: int = 1) -> int:
        try:
            return max(low, int(self.settings.get(sid, default)))
        except (TypeError, ValueError):
            return default

    @property
    def enabled(self) -> bool:
        return bool(self.settings.get("Apps_Framework_enabled", True))

    @property
    def package_limits(self) -> PackageLimits:
        return PackageLimits(max_compressed=self._int("Apps_Package_Max_Size_MB", 10) * MB,
                             max_uncompressed=self._int("Apps_Package_Max_Uncompressed_MB", 50) * MB,
                             max_files=self._int("Apps_Package_Max_Files", 2000))

    @property
    def allow_private(self) -> bool:
        return bool(self.settings.get("Apps_Allow_Private_Network", False))

    @property
    def call_timeout(self) -> float:
        return self._int("Apps_Call_Timeout_Ms", 2000, 10) / 1000

    @property
    def http_timeout(self) -> float:
        return self._int("Apps_Http_Timeout_Ms", 10000, 100) / 1000

    @property
    def http_max_bytes(self) -> int:
        return self._int("Apps_Http_Max_Response_KB", 5120) * 1024

    def limits(self) -> Limits:
        timeout = self.call_timeout
        return Limits(memory_mb=self._int("Apps_Memory_Limit_MB", 256, 64), call_timeout=timeout,
                      ping_interval=float(self._int("Apps_Ping_Interval_Seconds", 5)),
                      ping_timeout=max(0.5, min(2.0, timeout)),
                      allow_unconfined=bool(self.settings.get("Apps_Allow_Unconfined", False)))
