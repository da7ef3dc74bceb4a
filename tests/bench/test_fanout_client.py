"""The fan-out benchmark's raw websocket client: counting deliveries from frame headers alone must agree
with a full parse however the byte stream is cut into reads, and DDP pings must still be answered."""
from __future__ import annotations

import random

import orjson

from bench.fanout_bench import PONG, Tally, WsClient


def server_frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


def delivery(size: int) -> bytes:
    text = "x" * size
    return orjson.dumps({"msg": "changed", "collection": "stream-room-messages", "id": "id",
                         "fields": {"eventName": "r1", "args": [{"msg": text}]}})


class FakeTransport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def close(self) -> None:
        self.closed = True


def stream() -> tuple[bytes, int, int]:
    """Deliveries of every length encoding, with DDP pings between them: (bytes, deliveries, pings)."""
    frames, deliveries, pings = [], 0, 0
    for size in (300, 90, 20_000, 70_000, 120, 5):
        frames.append(server_frame(delivery(size)))
        deliveries += 1
        frames.append(server_frame(b'{"msg":"ping"}'))
        pings += 1
    return b"".join(frames), deliveries, pings


def client() -> tuple[WsClient, Tally, FakeTransport]:
    tally = Tally()
    c = WsClient("127.0.0.1", 1, tally)
    transport = FakeTransport()
    c.transport = transport
    c.upgraded = True
    return c, tally, transport


async def test_counting_agrees_with_full_parse_for_any_cuts():
    data, deliveries, pings = stream()
    rng = random.Random(7)
    for trial in range(200):
        counting, tally, transport = client()
        counting.count_only()
        cuts = sorted(rng.sample(range(1, len(data)), k=rng.randint(1, 60))) if trial else list(range(1, len(data)))
        pos = 0
        for cut in [*cuts, len(data)]:
            counting.data_received(data[pos:cut])
            pos = cut
        assert tally.n == deliveries
        assert transport.written.count(PONG) == pings

    parsing, tally, transport = client()
    seen = []
    parsing.on_changed = lambda msg, size: seen.append(size)
    for i in range(0, len(data), 777):
        parsing.data_received(data[i:i + 777])
    assert tally.n == deliveries == len(seen)
    assert transport.written.count(PONG) == pings


async def test_close_frame_closes_the_socket():
    counting, _, transport = client()
    counting.count_only()
    counting.data_received(server_frame(b"\x03\xe8", opcode=8))
    assert transport.closed
