"""StreamHub: turns committed database changes into broker events (MongoDB change streams, one leader)."""
from plugins.streamhub.hooks import Plugin

__all__ = ["Plugin"]
