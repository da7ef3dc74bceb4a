"""The value a REST handler receives: validated input and the caller's context, never the framework."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.context import Context
from core.rest.params import Page


@dataclass
class RestRequest:
    ctx: Context
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    page: Page | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, Any] | None = None   # multipart uploads, only on routes that accept them
    raw_body: bytes | None = None            # only on routes declared with raw_body=True

    @property
    def user(self) -> Mapping[str, Any]:
        assert self.ctx.user is not None, "route declared auth=False but reads the user"
        return self.ctx.user
