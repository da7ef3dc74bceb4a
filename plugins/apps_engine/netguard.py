"""Outgoing HTTP for apps and URL installs, behind an SSRF guard.

The guard sits where connections are made (an httpcore network backend), not only where URLs are parsed:
every connection, including each redirect hop, resolves the host itself and refuses private, loopback,
link-local, multicast and reserved addresses unless an admin allows private networks. Connecting to the
address that was checked leaves no window for DNS rebinding.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

MAX_REDIRECTS = 5


class Blocked(Exception):
    """The request was refused by policy (address, scheme, domain, size)."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str, port: int, allow_private: bool) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Blocked(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise Blocked(f"{host} resolves to a private or local address ({refused[0]})")
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, allow_private: Callable[[], bool]) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.allow_private = allow_private

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await resolve(host, port, self.allow_private()):
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                last = exc
        raise httpcore.ConnectError(f"cannot connect to {host}:{port}: {last}")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, allow_private: Callable[[], bool]) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                                  max_connections=50, keepalive_expiry=5.0,
                                                  network_backend=GuardedBackend(allow_private))


def check_url(url: httpx.URL, domains: list[str] | None) -> None:
    if url.scheme not in ("http", "https"):
        raise Blocked(f"scheme {url.scheme!r} is not allowed")
    host = (url.host or "").lower().rstrip(".")
    if not host:
        raise Blocked("the URL has no host")
    if domains is not None and not any(host == d or host.endswith("." + d) for d in domains):
        raise Blocked(f"{host} is not among the app's allowed domains")


class HttpClient:
    """One pooled client; the private-network policy is read on every connection."""

    def __init__(self, allow_private: Callable[[], bool]) -> None:
        self.client = httpx.AsyncClient(transport=GuardedTransport(allow_private), trust_env=False,
                                        follow_redirects=False)

    async def close(self) -> None:
        await self.client.aclose()

    async def fetch(self, method: str, url: str, *, headers: dict | None = None, params: dict | None = None,
                    json: Any = None, content: str | bytes | None = None, timeout: float = 10.0,
                    max_bytes: int = 5 * 1024 * 1024, domains: list[str] | None = None) -> tuple[httpx.Response, bytes]:
        """Send a request (following up to five redirects, each checked); return the response and its body,
        refusing bodies over `max_bytes`."""
        try:
            request = self.client.build_request(method, url, headers=headers, params=params, json=json,
                                                content=content, timeout=timeout)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise Blocked(f"invalid request: {exc}") from None
        for _ in range(MAX_REDIRECTS + 1):
            check_url(request.url, domains)
            try:
                async with asyncio.timeout(timeout):
                    response = await self.client.send(request, stream=True)
                    try:
                        if response.is_redirect and response.next_request is not None:
                            request = response.next_request
                            continue
                        body = await _read_capped(response, max_bytes)
                    finally:
                        await response.aclose()
            except TimeoutError:
                raise Blocked(f"no answer from {request.url.host} within {timeout:g}s") from None
            except httpx.HTTPError as exc:
                cause = exc.__cause__ or exc.__context__
                if isinstance(cause, Blocked):
                    raise cause from None
                raise Blocked(f"request failed: {exc}") from None
            return response, body
        raise Blocked("too many redirects")


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise Blocked(f"response of {declared} bytes exceeds the limit of {max_bytes}")
    chunks, size = [], 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise Blocked(f"response exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    encoding = response.headers.get("content-encoding", "").lower()
    if encoding in ("gzip", "deflate", "br"):
        return _decode_capped(raw, encoding, max_bytes)
    return raw


def _decode_capped(raw: bytes, encoding: str, max_bytes: int) -> bytes:
    """Decompress with the same cap (a small gzip can expand enormously)."""
    import zlib
    if encoding == "br":
        raise Blocked("brotli responses are not supported")
    d = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    out = d.decompress(raw, max_bytes + 1)
    if len(out) > max_bytes or d.unconsumed_tail:
        raise Blocked(f"response exceeds the limit of {max_bytes} bytes")
    return out
