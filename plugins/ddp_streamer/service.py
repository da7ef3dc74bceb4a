"""ddp_streamer state: room access, presence watchers, room bindings and the helpers listeners share."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from core import jsonutil
from core.ddp.wire import SharedFrame
from core.errors import TooManyRequests
from plugins.ddp_streamer.access import RoomAccess
from plugins.ddp_streamer.bindings import RoomBindings
from plugins.ddp_streamer.presence import PresenceWatch

if TYPE_CHECKING:
    from core.ddp import DdpConnection

log = logging.getLogger("orbitchat.ddp_streamer")

RATE_CALLS = "DDP_Rate_Limit_Stream_Events_Calls"
RATE_INTERVAL = "DDP_Rate_Limit_Stream_Events_Interval_Time"
SETTINGS = [
    {"_id": RATE_CALLS, "type": "int", "value": 120, "group": "Rate Limiter", "section": "DDP_Rate_Limiter",
     "i18nLabel": "Client stream events allowed per connection"},
    {"_id": RATE_INTERVAL, "type": "int", "value": 60000, "group": "Rate Limiter",
     "section": "DDP_Rate_Limiter", "i18nLabel": "Client stream events interval (ms)"},
]
RATE_KEY = "stream_writes"


def changed_frame(stream: str, event_name: str, args_json: str) -> SharedFrame:
    """The stream `changed` frame around arguments that were encoded once for every recipient."""
    return SharedFrame('{"msg":"changed","collection":' + jsonutil.ejson_dumps(stream).decode()
                       + ',"id":"id","fields":{"eventName":' + jsonutil.ejson_dumps(event_name).decode()
                       + ',"args":' + args_json + '}}')


class SerialWorker:
    """Runs slow listener work (database reads) off the broker's delivery path, in arrival order."""

    def __init__(self, limit: int = 10_000) -> None:
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue(maxsize=limit)
        self._task: asyncio.Task | None = None

    def submit(self, job: Callable[[], Awaitable[None]]) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            log.warning("ddp_streamer background queue is full; an event was dropped")

    async def _run(self) -> None:
        while True:
            job = await self._queue.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ddp_streamer background job failed")

    async def drain(self) -> None:
        while not self._queue.empty() and self._task is not None and not self._task.done():
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class StreamerService:
    """Created with the plugin; `start(api)` binds it to the running kernel."""

    api: Any

    def __init__(self) -> None:
        self.presence = PresenceWatch()
        self.worker = SerialWorker()
        self.access: RoomAccess
        self.bindings: RoomBindings

    def start(self, api: Any) -> None:
        self.api = api
        self.access = RoomAccess(api.broker)
        self.bindings = RoomBindings(api.db["rocketchat_subscription"])

    @property
    def ddp(self) -> Any:
        return self.api.ddp

    async def has_any_permission(self, user: Mapping[str, Any] | None, permissions: Iterable[str]) -> bool:
        for perm in permissions:
            if await self.api.has_permission(user, perm):
                return True
        return False

    def connections_of(self, user_id: str) -> list[DdpConnection]:
        return [c for c in list(self.ddp.connections.values()) if c.user_id == user_id]

    def listens(self, stream: str, event_name: str) -> bool:
        return self.ddp.subscriber_count(stream, event_name) > 0

    def check_rate(self, conn: DdpConnection) -> None:
        """Count one client stream event on this connection (fixed window, as DDPRateLimiter counts)."""
        calls = int(self.api.settings.get(RATE_CALLS, 120) or 0)
        interval = int(self.api.settings.get(RATE_INTERVAL, 60000) or 60000)
        if calls <= 0:
            return
        now = time.monotonic() * 1000
        window = conn.extra.get(RATE_KEY)
        if window is None or now - window[0] >= interval:
            window = conn.extra[RATE_KEY] = [now, 0]
        window[1] += 1
        if window[1] > calls:
            raise TooManyRequests(int(window[0] + interval - now))
