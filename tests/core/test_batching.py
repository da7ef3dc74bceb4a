"""core.batching.InsertBatcher against the real embedded database: concurrent inserts share commands and
each caller gets its own outcome."""
from __future__ import annotations

import asyncio

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from core.batching import InsertBatcher


@pytest.fixture
async def coll(mongo_url, db_name):
    client = AsyncMongoClient(mongo_url)
    yield client[db_name]["batched"]
    await client.drop_database(db_name)
    await client.close()


async def test_concurrent_inserts_share_commands_and_fail_alone(coll):
    await coll.insert_one({"_id": "taken"})
    commands = 0
    original = coll.insert_many

    async def counting(*args, **kwargs):
        nonlocal commands
        commands += 1
        return await original(*args, **kwargs)

    batcher = InsertBatcher(coll)
    coll.insert_many = counting  # type: ignore[method-assign]
    docs = [{"_id": f"d{i}", "n": i} for i in range(40)] + [{"_id": "taken", "n": -1}]
    results = await asyncio.gather(*(batcher.insert(d) for d in docs), return_exceptions=True)
    assert [type(r) for r in results[:40]] == [type(None)] * 40
    assert isinstance(results[40], DuplicateKeyError)
    assert await coll.count_documents({}) == 41
    assert (await coll.find_one({"_id": "taken"})).get("n") is None   # the duplicate changed nothing
    assert 1 <= commands < 10        # the first insert went alone, the rest together


async def test_a_lone_insert_is_written_at_once(coll):
    batcher = InsertBatcher(coll)
    await asyncio.wait_for(batcher.insert({"_id": "solo"}), 5)
    assert await coll.find_one({"_id": "solo"}) == {"_id": "solo"}
    with pytest.raises(DuplicateKeyError):
        await batcher.insert({"_id": "solo"})
