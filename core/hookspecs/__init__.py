"""Hook specifications, one module per domain; `hookimpl` is what plugins and apps decorate with."""
from __future__ import annotations

import pluggy

from apps_sdk.markers import PROJECT, hookimpl

hookspec = pluggy.HookspecMarker(PROJECT)

__all__ = ["PROJECT", "hookimpl", "hookspec", "spec_modules"]


def spec_modules() -> list:
    """Every hookspec module; the plugin manager adds them all."""
    from core.hookspecs import auth, kernel, messages, rooms, settings, uikit, users

    return [kernel, auth, settings, users, rooms, messages, uikit]
