"""UIKit hooks: core services that answer UIKit interactions themselves (Rocket.Chat's UiKitCoreApp)."""
from __future__ import annotations

from typing import Any

from core.hookspecs import hookspec


@hookspec
def register_uikit_core_apps() -> list[Any]:
    """Return `core.uikit.CoreApp` values: an `app_id` (e.g. `banner-core`, `nps-core`) and async handlers
    `block_action`, `view_submit`, `view_closed`, `action_button`, each `(interaction: dict, ctx) -> dict | None`.
    Interactions addressed to a registered core app id never reach an installed app."""
