"""apps_engine: install, update, enable, disable and remove sandboxed apps at runtime; `/api/apps`, app
endpoints, slash commands, app settings, logs, persistence and jobs."""
from plugins.apps_engine.hooks import Plugin

__all__ = ["Plugin"]
