"""Presence service: connections per user, online/away/busy/offline, status broadcast."""
from plugins.presence.hooks import Plugin

__all__ = ["Plugin"]
