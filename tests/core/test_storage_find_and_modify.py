"""core.storage.find_one_and_update / find_one_and_delete: findAndModify's results, done on SecantusDB as
indexed find + conditional write (its own findAndModify costs time in proportion to the collection). Claims
racing for the same documents each get a different one, as with an atomic findAndModify."""
from __future__ import annotations

import asyncio

import pytest

from core import storage
from core.context import random_id


@pytest.fixture
async def coll(mongo_url):
    client = await storage.connect(mongo_url)
    db = client["t_fam_" + random_id(8)]
    try:
        yield db["jobs"]
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_emulated_on_secantus_only(coll):
    secantus = "secantusVersion" in await coll.database.client.server_info()
    assert storage._emulate_find_and_modify(coll) is secantus


async def test_results_match_find_and_modify(coll):
    await coll.insert_many([{"_id": "a", "n": 1, "k": "x"}, {"_id": "b", "n": 2, "k": "x"}])
    before = await storage.find_one_and_update(coll, {"k": "x"}, {"$inc": {"n": 10}}, sort=[("n", -1)])
    assert before == {"_id": "b", "n": 2, "k": "x"}
    after = await storage.find_one_and_update(coll, {"_id": "a"}, {"$set": {"k": "y"}}, after=True)
    assert after == {"_id": "a", "n": 1, "k": "y"}
    assert await storage.find_one_and_update(coll, {"k": "nope"}, {"$set": {"n": 0}}) is None
    made = await storage.find_one_and_update(coll, {"_id": "c"}, {"$set": {"n": 3}}, upsert=True, after=True)
    assert made == {"_id": "c", "n": 3}
    assert await storage.find_one_and_delete(coll, {"n": {"$gte": 3}}, sort=[("n", 1)]) == {"_id": "c", "n": 3}
    assert await storage.find_one_and_delete(coll, {"_id": "c"}) is None
    assert sorted(d["_id"] for d in await coll.find().to_list(None)) == ["a", "b"]


async def test_concurrent_claims_take_each_document_once(coll):
    await coll.insert_many([{"_id": f"j{i}", "locked": False} for i in range(10)])
    claims = await asyncio.gather(*(
        storage.find_one_and_update(coll, {"locked": False}, {"$set": {"locked": True}}, after=True)
        for _ in range(16)))
    taken = [c["_id"] for c in claims if c is not None]
    assert sorted(taken) == sorted(f"j{i}" for i in range(10))    # ten claims, each job once
    assert claims.count(None) == 6
    gone = await asyncio.gather(*(storage.find_one_and_delete(coll, {"locked": True}) for _ in range(12)))
    assert sorted(d["_id"] for d in gone if d is not None) == sorted(taken) and gone.count(None) == 2
