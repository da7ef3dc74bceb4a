"""core.storage.connect: against SecantusDB writes are not retryable (their records make each later write
slower); a URL that says otherwise is obeyed."""
from __future__ import annotations

from core import storage


async def test_secantus_gets_plain_writes(mongo_url, server_factory):
    client = await storage.connect(mongo_url)
    try:
        assert client.options.retry_writes is False
    finally:
        await client.close()
    sep = "&" if "?" in mongo_url else "?"
    asked = await storage.connect(f"{mongo_url}{sep}retryWrites=true")
    try:
        assert asked.options.retry_writes is True
    finally:
        await asked.close()
    srv = await server_factory()
    assert srv.kernel.client.options.retry_writes is False
