"""Messaging service: the message pipeline (send, edit, delete with their hooks), threads, reactions, pins,
stars, mentions, search and bounded history queries."""
from plugins.messaging.hooks import Plugin

__all__ = ["Plugin"]
