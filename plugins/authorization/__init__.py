"""Authorization service: Rocket.Chat's roles and permissions, room-scoped roles, permission checks."""
from plugins.authorization.hooks import Plugin

__all__ = ["Plugin"]
