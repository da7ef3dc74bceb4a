"""Client input never reaches a query or a stored server field: operator objects, server fields, unsafe keys,
unknown fields and unsafe links are refused with 400 before any handler runs."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("message", [
    {"rid": {"$ne": None}, "msg": "x"},
    {"rid": "ROOM", "msg": {"$gt": ""}},
    {"rid": "ROOM", "msg": "x", "u": {"_id": "someone", "username": "admin"}},
    {"rid": "ROOM", "msg": "x", "ts": "2020-01-01T00:00:00.000Z"},
    {"rid": "ROOM", "msg": "x", "editedBy": {"_id": "x"}},
    {"rid": "ROOM", "msg": "x", "pinned": True},
    {"rid": "ROOM", "msg": "x", "reactions": {":x:": {"usernames": ["a"]}}},
    {"rid": "ROOM", "msg": "x", "mentions": [{"_id": "all"}]},
    {"rid": "ROOM", "msg": "x", "attachments": [{"$where": "1"}]},
    {"rid": "ROOM", "msg": "x", "attachments": [{"fields": [{"a.b": 1}]}]},
    {"rid": "ROOM", "msg": "x", "customFields": {"$set": {"x": 1}}},
    {"rid": "ROOM", "msg": "x", "avatar": "javascript:alert(1)"},
    {"rid": "ROOM", "msg": "x", "_id": "../../etc"},
])
async def test_send_refuses_server_fields_and_operators(srv, alice, message):
    room = await alice.channel("guarded")
    message = {k: (room["_id"] if v == "ROOM" else v) for k, v in message.items()}
    body = await alice.fails("POST", "chat.sendMessage", {"message": message})
    assert body["errorType"] == "invalid-params"


@pytest.mark.parametrize("path,body", [
    ("chat.update", {"roomId": {"$ne": None}, "msgId": "x", "text": "y"}),
    ("chat.update", {"roomId": "r", "msgId": {"$regex": ".*"}, "text": "y"}),
    ("chat.delete", {"roomId": "r", "msgId": {"$gt": ""}}),
    ("chat.react", {"messageId": {"$ne": None}, "emoji": "smile"}),
    ("chat.pinMessage", {"messageId": ["a", "b"]}),
    ("chat.starMessage", {"messageId": "a", "extra": 1}),
    ("chat.followMessage", {"mid": {"$exists": True}}),
    ("chat.postMessage", {"roomId": {"$ne": None}, "text": "x"}),
    ("chat.postMessage", {"channel": "#x", "text": "x", "u": {"_id": "x"}}),
])
async def test_post_bodies_refuse_operator_objects(srv, alice, path, body):
    reply = await alice.fails("POST", path, body)
    assert reply["errorType"] == "invalid-params"


@pytest.mark.parametrize("path,params", [
    ("chat.getMessage", {"msgId[$ne]": "x"}),
    ("channels.history", {"roomId": "r", "latest[$gt]": "x"}),
    ("channels.messages", {"roomId": "r", "query": '{"$where": "sleep(1000)"}'}),
    ("channels.messages", {"roomId": "r", "query": '{"msg": {"$regex": ".*"}}'}),
    ("channels.messages", {"roomId": "r", "sort": '{"msg": 1}'}),
    ("channels.messages", {"roomId": "r", "fields": '{"$where": 1}'}),
    ("chat.search", {"roomId": "r", "searchText": "x", "extra": "1"}),
    ("chat.syncMessages", {"roomId": "r", "type": "EVERYTHING"}),
    ("chat.getThreadsList", {"rid": "r", "type": "all-of-them"}),
])
async def test_query_strings_refuse_operators(srv, alice, path, params):
    room = await alice.channel("guarded2")
    params = {k: (room["_id"] if v == "r" else v) for k, v in params.items()}
    r = await alice.get(path, **params)
    assert r.status_code == 400, r.text
    assert r.json()["success"] is False


async def test_ddp_params_are_checked(srv, alice):
    room = await alice.channel("guarded3")
    ddp = await alice.ddp()
    for method, params in [
        ("sendMessage", [{"rid": room["_id"], "msg": "x", "u": {"_id": "boss"}}]),
        ("sendMessage", [{"rid": {"$ne": None}, "msg": "x"}]),
        ("updateMessage", [{"_id": {"$gt": ""}, "msg": "x"}]),
        ("deleteMessage", [{"_id": {"$ne": None}}]),
        ("setReaction", [":x:", {"$ne": None}]),
        ("getSingleMessage", [{"$gt": ""}]),
        ("loadHistory", [room["_id"], None, "lots"]),
    ]:
        reply = await ddp.call(method, *params)
        assert reply["error"]["error"] == "error-invalid-params", (method, reply)


async def test_unsafe_attachment_links_are_refused(srv, alice):
    room = await alice.channel("links")
    body = await alice.fails("POST", "chat.postMessage", roomId=room["_id"], text="x",
                             attachments=[{"title": "t", "title_link": "javascript:alert(1)"}])
    assert body["errorType"] == "error-invalid-attachment"
    ok = await alice.ok("POST", "chat.postMessage", roomId=room["_id"], text="x",
                        attachments=[{"title": "t", "title_link": "https://example.org", "fields": [
                            {"title": "a", "value": "b", "short": True}]}])
    assert ok["message"]["attachments"][0]["title_link"] == "https://example.org"


async def test_stored_message_is_data_not_markup(srv, alice):
    room = await alice.channel("verbatim")
    text = '<script>alert(1)</script> {"$gt": ""} $where'
    msg = await alice.send(room["_id"], text)
    assert msg["msg"] == text
    got = (await alice.ok("GET", "chat.getMessage", msgId=msg["_id"]))["message"]
    assert got["msg"] == text
