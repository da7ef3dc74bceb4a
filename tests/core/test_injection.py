"""MongoDB operator injection (Rocket.Chat's most repeated CVE class) is refused with 400 before any handler
or query runs: in JSON bodies, in query strings, and in the `query=`/`sort=`/`fields=` pagination
parameters."""
from __future__ import annotations

import json
from typing import Any

import pytest

from core import hookimpl
from core.rest import Route

LOOKUP_BODY = {
    "type": "object",
    "properties": {"username": {"type": "string", "maxLength": 100}},
    "required": ["username"],
    "additionalProperties": False,
}

OPERATOR_VALUES = [
    {"$ne": None},
    {"$where": "sleep(1000) || true"},
    {"$regex": ".*"},
    {"$gt": ""},
    ["alice", {"$ne": None}],
    {"$in": ["alice"]},
]


class LookupRoute:
    """A route that looks a user up by the `username` a client sends, as login routes do."""

    name = "lookup_route"

    def __init__(self) -> None:
        self.db: Any = None
        self.handled = 0

    @hookimpl
    async def orbitchat_startup(self, api: Any) -> None:
        self.db = api.db
        await self.db["probe_users"].insert_many([{"_id": "u1", "username": "alice"},
                                                   {"_id": "u2", "username": "bob"}])

    @hookimpl
    def register_routes(self) -> list[Route]:
        return [Route("POST", "probe.lookup", self.lookup, auth=False, body=LOOKUP_BODY, rate_limit=None),
                Route("GET", "probe.lookup", self.lookup, auth=False, rate_limit=None,
                      query={"type": "object", "properties": {"username": {"type": "string"}},
                             "additionalProperties": False})]

    async def lookup(self, req: Any) -> dict:
        self.handled += 1
        username = req.body.get("username") if req.method == "POST" else req.query.get("username")
        found = [d["_id"] async for d in self.db["probe_users"].find({"username": username})]
        return {"found": found}


@pytest.fixture
async def lookup_server(server_factory):
    route = LookupRoute()
    srv = await server_factory(plugins=(route, "settings"))
    srv.route = route
    return srv


async def test_legit_lookup_works(lookup_server):
    r = await lookup_server.http.post("/api/v1/probe.lookup", json={"username": "alice"})
    assert r.json() == {"found": ["u1"], "success": True}
    r = await lookup_server.http.get("/api/v1/probe.lookup", params={"username": "bob"})
    assert r.json() == {"found": ["u2"], "success": True}


async def test_operator_in_body_field_is_400(lookup_server):
    for value in OPERATOR_VALUES:
        r = await lookup_server.http.post("/api/v1/probe.lookup", json={"username": value})
        assert r.status_code == 400, value
        assert r.json()["success"] is False and r.json()["errorType"] == "invalid-params"
    assert lookup_server.route.handled == 0   # refused before the handler ran


async def test_operator_keys_in_body_are_400(lookup_server):
    for body in ({"username": "alice", "$where": "1"}, {"$or": [{"username": "alice"}]}):
        r = await lookup_server.http.post("/api/v1/probe.lookup", json=body)
        assert r.status_code == 400 and r.json()["errorType"] == "invalid-params"
    assert lookup_server.route.handled == 0


async def test_operator_in_query_string_is_400(lookup_server):
    for params in ({"username[$ne]": "x"}, {"username[$regex]": ".*"},
                   [("username", "a"), ("username", "b")]):
        r = await lookup_server.http.get("/api/v1/probe.lookup", params=params)
        assert r.status_code == 400, params
        assert r.json()["errorType"] == "invalid-params"
    assert lookup_server.route.handled == 0


# -- settings.public: query= / sort= / fields= ----------------------------------------------------------
INJECTED_QUERIES = [
    {"_id": {"$regex": ".*"}},
    {"$where": "1"},
    {"_id": {"$ne": None}},
    {"$or": [{"_id": "Site_Name"}, {"public": False}]},
    {"$and": [{"_id": "x"}]},
    {"public": False},                                # not a whitelisted field
    {"value": {"$exists": True}},
    {"_id": {"$in": [{"$ne": None}]}},                # operator smuggled inside $in
    {"_id": {"$in": ["a"], "$nin": ["b"]}},
    {"_id": {"$gt": ""}},
    {"_id": ["a", "b"]},
    {"_id": {"$expr": {"$eq": [1, 1]}}},
    {"_id.$": "x"},
]


async def test_operator_in_query_param_is_400(lookup_server):
    for query in INJECTED_QUERIES:
        r = await lookup_server.http.get("/api/v1/settings.public", params={"query": json.dumps(query)})
        assert r.status_code == 400, query
        body = r.json()
        assert body["success"] is False and body["errorType"] == "error-invalid-query", query


async def test_query_param_must_be_a_json_object(lookup_server):
    for raw in ("not json", "[]", '"_id"', "1", "null", "{"):
        r = await lookup_server.http.get("/api/v1/settings.public", params={"query": raw})
        assert r.status_code == 400 and r.json()["errorType"] == "error-invalid-query", raw


async def test_query_param_in_list_works(lookup_server):
    ids = ["API_Default_Count", "API_Upper_Count_Limit"]   # kernel settings, not public
    r = await lookup_server.http.get("/api/v1/settings.public",
                                     params={"query": json.dumps({"_id": {"$in": ids}})})
    assert r.status_code == 200
    assert r.json()["settings"] == []   # the filter is ANDed with public:true, never replaces it
    # Make one of them public through the store to see the $in filter select it.
    await lookup_server.kernel.db["rocketchat_settings"].update_one({"_id": "API_Default_Count"},
                                                                    {"$set": {"public": True}})
    r = await lookup_server.http.get("/api/v1/settings.public",
                                     params={"query": json.dumps({"_id": {"$in": ids}})})
    assert r.json()["settings"] == [{"_id": "API_Default_Count", "value": 50}]
    assert r.json()["total"] == 1
    r = await lookup_server.http.get("/api/v1/settings.public",
                                     params={"query": json.dumps({"_id": "API_Default_Count"})})
    assert r.json()["settings"] == [{"_id": "API_Default_Count", "value": 50}]


async def test_sort_with_operators_or_unknown_fields_is_400(lookup_server):
    for sort in ('{"$where": 1}', '{"_id": {"$natural": 1}}', '{"$natural": -1}', '{"_id": 2}',
                 '{"_id": "asc"}', '{"value": 1}', '{"_id.$": 1}', "_id", "[]", "{"):
        r = await lookup_server.http.get("/api/v1/settings.public", params={"sort": sort})
        assert r.status_code == 400, sort
        assert r.json()["errorType"] == "error-invalid-sort", sort


async def test_fields_garbage_is_400(lookup_server):
    for fields in ("garbage", "[]", '{"value": "yes"}', '{"$where": 1}', '{"_id": 1, "value": 0}',
                   '{"a b": 1}', "{"):
        r = await lookup_server.http.get("/api/v1/settings.public", params={"fields": fields})
        assert r.status_code == 400, fields
        assert r.json()["errorType"] == "error-invalid-fields", fields


async def test_count_and_offset_must_be_integers(lookup_server):
    for params in ({"count": "-1"}, {"count": "ten"}, {"offset": "1e3"}, {"count": '{"$gt": 0}'}):
        r = await lookup_server.http.get("/api/v1/settings.public", params=params)
        assert r.status_code == 400 and r.json()["errorType"] == "invalid-params", params


async def test_legit_sort_fields_and_paging_work(lookup_server):
    await lookup_server.kernel.db["rocketchat_settings"].update_many(
        {"_id": {"$in": ["API_Default_Count", "API_Upper_Count_Limit", "API_Allow_Infinite_Count"]}},
        {"$set": {"public": True}})
    r = await lookup_server.http.get("/api/v1/settings.public",
                                     params={"sort": json.dumps({"_id": -1}),
                                             "fields": json.dumps({"value": 0}), "count": "2", "offset": "0"})
    assert r.status_code == 200
    body = r.json()
    assert body["settings"] == [{"_id": "API_Upper_Count_Limit"}, {"_id": "API_Default_Count"}]
    assert (body["count"], body["offset"], body["total"]) == (2, 0, 3)
