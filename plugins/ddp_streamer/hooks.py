"""ddp_streamer plugin: hook adapter."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from plugins.ddp_streamer import streams as stream_defs
from plugins.ddp_streamer import writes
from plugins.ddp_streamer.listeners import Listeners
from plugins.ddp_streamer.service import SETTINGS, StreamerService


class Plugin:
    name = "ddp_streamer"

    def __init__(self) -> None:
        self.service = StreamerService()
        self.listeners = Listeners(self.service)

    @hookimpl
    def register_settings(self) -> list[dict]:
        return [dict(s) for s in SETTINGS]

    @hookimpl
    def register_streams(self) -> list:
        return stream_defs.streams(self.service)

    @hookimpl
    def register_ddp_methods(self) -> list:
        return writes.methods(self.service)

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        self.service.start(api)
        await self.listeners.start()

    @hookimpl
    async def orbitchat_shutdown(self) -> None:
        self.listeners.stop()
        self.service.worker.stop()
