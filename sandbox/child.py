"""Entry point of an app process: `python -I -m sandbox.child '<json config>'`.

Confines itself first (sandbox.confine), then loads the app and serves the channel on stdin/stdout. The
server's own stdout is not ours: the channel owns fd 0 and 1, and anything the app prints goes to stderr,
which the server keeps as the app's log.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import orjson  # noqa: F401

# Everything the process needs is imported before confinement shuts the filesystem.
import apps_sdk  # noqa: F401
from sandbox.confine import confine
from sandbox.peer import Peer
from sandbox.runtime import AppRuntime


async def serve(package_dir: Path, report: dict, channel_in: int, channel_out: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=32 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(channel_in, "rb", 0))
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin,
                                                        os.fdopen(channel_out, "wb", 0))
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    peer = Peer(reader, writer, id_prefix="a")
    runtime = AppRuntime(peer, package_dir)
    peer.handler = runtime.handle
    peer.notify("ready", {"confinement": report, "pid": os.getpid()})
    await peer.run()


def main() -> None:
    cfg = json.loads(sys.argv[1])
    package_dir, data_dir = Path(cfg["package_dir"]), Path(cfg["data_dir"])
    code_dirs = [str(Path(apps_sdk.__file__).parent), str(Path(__file__).parent)]
    # Keep the channel on private descriptors; fd 1 becomes stderr so a stray print cannot corrupt frames.
    channel_in, channel_out = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    report = confine(package_dir, data_dir, cfg.get("limits", {}), code_dirs)
    os.chdir(data_dir)
    sys.path[:] = [p for p in sys.path if p]   # no implicit current directory
    asyncio.run(serve(package_dir, report, channel_in, channel_out))


if __name__ == "__main__":
    main()
