"""StreamHub plugin: hook adapter."""
from __future__ import annotations

from typing import Any

from core import hookimpl
from plugins.streamhub.service import StreamHub


class Plugin:
    name = "streamhub"

    def __init__(self) -> None:
        self.hub = StreamHub()

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        await self.hub.start(api)
        await api.broker.register("streamhub.status", self._status)

    @hookimpl
    async def orbitchat_shutdown(self) -> None:
        await self.hub.stop()

    async def _status(self) -> dict:
        return {"instance": self.hub.instance, "leading": self.hub.leading, "emitted": self.hub.emitted,
                "mode": self.hub.api.streamhub_mode}
