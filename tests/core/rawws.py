"""A websocket client on a bare TCP socket, for tests that need a client which does not read.

Library clients read in the background; this one reads only when told to, and can shrink its receive buffer
so that a server writing to it fills the TCP window quickly (a real slow consumer).
"""
from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct


def _masked_frame(opcode: int, data: bytes) -> bytes:
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        head = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", n)
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class RawWebsocket:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    @classmethod
    async def connect(cls, host: str, port: int, path: str = "/websocket",
                      rcvbuf: int | None = None) -> RawWebsocket:
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        if rcvbuf is not None:   # must be set before connecting to bound the TCP window
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        await loop.sock_sendall(sock, request.encode())
        ws = cls(sock)
        while b"\r\n\r\n" not in ws.buf:
            chunk = await loop.sock_recv(sock, 4096)
            if not chunk:
                raise ConnectionError("closed during handshake")
            ws.buf += chunk
        head, ws.buf = ws.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(head.decode(errors="replace"))
        return ws

    async def send_text(self, text: str) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, _masked_frame(0x1, text.encode()))

    async def _need(self, n: int) -> None:
        loop = asyncio.get_running_loop()
        while len(self.buf) < n:
            chunk = await loop.sock_recv(self.sock, 1 << 20)
            if not chunk:
                raise ConnectionError("connection closed without a close frame")
            self.buf += chunk

    async def recv_frame(self) -> tuple[int, bytes]:
        """Next frame from the server (unmasked): (opcode, payload)."""
        await self._need(2)
        opcode, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        offset = 2
        if n == 126:
            await self._need(4)
            n, offset = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            await self._need(10)
            n, offset = struct.unpack("!Q", self.buf[2:10])[0], 10
        await self._need(offset + n)
        payload, self.buf = self.buf[offset:offset + n], self.buf[offset + n:]
        return opcode, payload

    async def read_until_close(self) -> tuple[int, int]:
        """Read everything the server sent; returns (text frames read, close code)."""
        texts = 0
        while True:
            opcode, payload = await self.recv_frame()
            if opcode == 0x8:
                return texts, struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            if opcode == 0x1:
                texts += 1

    def close(self) -> None:
        self.sock.close()
