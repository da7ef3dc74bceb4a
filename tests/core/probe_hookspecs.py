"""Test-only hookspecs, one per call kind of `core.hooks.HookRunner`. Tests add them to a running app's
plugin manager (`kernel.pm.add_hookspecs`) and register implementations beside them."""
from __future__ import annotations

from core.hookspecs import hookspec


@hookspec
async def pre_probe_prevent(thing: dict) -> bool | str | None:
    """first_deny: True or a reason string refuses `thing`; the first refusal wins."""


@hookspec
async def pre_probe_modify(thing: dict) -> dict | None:
    """pipeline: return a replacement for `thing` (None: unchanged); each sees the previous result."""


@hookspec
def register_probes() -> list:
    """collect: every implementation's list, concatenated."""


@hookspec
async def provide_probe(key: str) -> str | None:
    """first_result: the first non-None answer."""


@hookspec
async def post_probe(thing: dict) -> None:
    """notify: background, isolated."""
