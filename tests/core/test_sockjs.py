"""The SockJS websocket transport Meteor clients use: `o`, `a[...]` frames, `["..."]` from the client."""
import json

import websockets


async def test_sockjs_info(server):
    r = await server.http.get("/sockjs/info")
    body = r.json()
    assert body["websocket"] is True and body["cookie_needed"] is False and isinstance(body["entropy"], int)


async def test_sockjs_framing_round_trip(server):
    url = server.ws_url.replace("/websocket", "/sockjs/123/abcdefgh/websocket")
    async with websockets.connect(url) as ws:
        assert await ws.recv() == "o"
        await ws.send(json.dumps([json.dumps({"msg": "connect", "version": "1", "support": ["1"]})]))
        frames = []
        while not any(f.get("msg") == "connected" for f in frames):
            raw = await ws.recv()
            assert raw.startswith("a[")
            frames.extend(json.loads(m) for m in json.loads(raw[1:]))
        await ws.send(json.dumps([json.dumps({"msg": "ping", "id": "p1"})]))
        raw = await ws.recv()
        assert [json.loads(m) for m in json.loads(raw[1:])] == [{"msg": "pong", "id": "p1"}]
