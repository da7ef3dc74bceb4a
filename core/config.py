"""Kernel configuration: one frozen value built from CLI flags, environment and test fixtures."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 3000
    data_dir: Path = Path("./data")
    mongo_url: str | None = None          # None: start the embedded database
    db_name: str = "orbitchat"
    services: tuple[str, ...] | None = None  # None: every locked plugin
    lock_path: Path = Path("plugin.lock")
    strict_lock: bool = False
    broker_url: str | None = None         # None: in-process transport
    streamhub: str = "direct"             # "direct": services emit watch.* events; "changestream": StreamHub does
    site_url: str | None = None
    hook_timeout: float = 5.0
    # Explicit plugin set (names of entry points or plugin objects); bypasses plugin.lock. Used by tests
    # and embedders that assemble an app by hand.
    plugins: tuple[Any, ...] | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    max_ddp_frame_bytes: int = 1024 * 1024
    ddp_send_queue: int = 1000
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> Config:
        env = dict(os.environ)
        base = cls(
            mongo_url=env.get("MONGO_URL") or None,
            db_name=env.get("ORBITCHAT_DB", "orbitchat"),
            broker_url=env.get("BROKER_URL") or None,
            streamhub=env.get("STREAMHUB", "direct"),
            site_url=env.get("ROOT_URL") or None,
            env=env,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def public_url(self) -> str:
        return self.site_url or f"http://{self.host}:{self.port}"
