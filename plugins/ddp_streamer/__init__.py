"""ddp_streamer service: every Rocket.Chat stream, its read rules, and broker events turned into stream events."""
from plugins.ddp_streamer.hooks import Plugin

__all__ = ["Plugin"]
