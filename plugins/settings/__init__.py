"""Settings service: persisted, typed settings with change events and the admin REST API."""
from plugins.settings.hooks import Plugin

__all__ = ["Plugin"]
