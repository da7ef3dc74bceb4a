"""UiKitCoreApp: routes UIKit interactions to a core service or to the app that owns the view."""
from plugins.uikit_core.hooks import Plugin

__all__ = ["Plugin"]
