"""Running an app under Hypercorn: used by the CLI, the test fixtures and the benchmarks."""
from __future__ import annotations

import asyncio
import gc
import socket

import hypercorn.protocol.ws_stream as hypercorn_ws
from hypercorn.asyncio import serve
from hypercorn.config import Config as HyperConfig
from quart import Quart
from wsproto.extensions import PerMessageDeflate

from core.app import kernel_of
from core.config import Config
from core.kernel import SOCKETS_DRAIN_SECONDS


class _DeclinedDeflate(PerMessageDeflate):
    """permessage-deflate, always declined. Hypercorn offers it with no switch, and it costs each socket a
    zlib window of ~300 KB and a compression per recipient, undoing the one-encoding fan-out. Rocket.Chat's
    ddp-streamer (the `ws` server defaults) does not compress either."""

    def accept(self, offer: str) -> None:
        return None


def decline_ws_compression() -> None:
    hypercorn_ws.PerMessageDeflate = _DeclinedDeflate


def hypercorn_config(config: Config, sock: socket.socket | None = None) -> HyperConfig:
    """Hypercorn settings for `config`; a given listening `sock` is taken over (unusable afterwards)."""
    hc = HyperConfig()
    # Hypercorn wraps the descriptor in a socket object of its own: hand it over (detach), or two objects
    # would close one descriptor number, the second time closing whatever reused it.
    hc.bind = [f"fd://{sock.detach()}"] if sock is not None else [f"{config.host}:{config.port}"]
    hc.websocket_max_message_size = config.max_ddp_frame_bytes
    hc.accesslog = None
    hc.errorlog = None  # the kernel prints its own start-up lines; errors go through logging
    hc.graceful_timeout = SOCKETS_DRAIN_SECONDS
    hc.keep_alive_timeout = 30
    return hc


def settle_heap() -> None:
    """Once a server process has started: collect, then move everything start-up allocated (modules,
    plugins, schemas: it lives as long as the process) out of the collector's sight (`gc.freeze`). A full
    collection then scans only what serving allocates: the 100 ms pauses a full scan of the start-up heap
    cost every few seconds under load (a message's p99) become a few milliseconds."""
    gc.collect()
    gc.freeze()


def listening_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


async def run(app: Quart, config: Config, stop: asyncio.Event, sock: socket.socket | None = None) -> None:
    """Serve until `stop` is set. Hypercorn then closes the listening sockets and gives open connections
    `graceful_timeout` to end before cancelling them; a websocket never ends on its own, so the DDP sockets
    are closed first (1012, service restart) and clients reconnect at once."""
    decline_ws_compression()

    async def shutdown_trigger() -> None:
        await stop.wait()
        kernel_of(app).ddp_gateway.close_all()

    await serve(app, hypercorn_config(config, sock), shutdown_trigger=shutdown_trigger)
