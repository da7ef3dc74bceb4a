"""Rooms service: channels, private groups, direct messages, subscriptions and read state."""
from plugins.rooms.hooks import Plugin

__all__ = ["Plugin"]
