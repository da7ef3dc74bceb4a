"""The DDP gateway over real websockets: handshake, heartbeats both ways, methods, subscriptions and stream
events, EJSON on the wire, bad frames, and per-connection limits (frame size, slow consumers)."""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import websockets

from core import hookimpl
from core.ddp import DdpMethod, MethodInvocation, Stream
from core.errors import MeteorError
from tests.core.rawws import RawWebsocket
from tests.helpers import StaticAuth

ANY_PARAMS = {"type": "array"}


class DdpProbe:
    """Methods and publications covering each gateway path."""

    name = "ddp_probe"

    def __init__(self, auth: StaticAuth | None = None) -> None:
        self.auth = auth
        self.order: list[str] = []

    @hookimpl
    def register_ddp_methods(self) -> list[DdpMethod]:
        return [
            DdpMethod("probe/echo", self.echo, auth=False, params=ANY_PARAMS),
            DdpMethod("probe/nothing", self.nothing, auth=False),
            DdpMethod("probe/whoami", self.whoami),
            DdpMethod("probe/admin", self.nothing, permission="probe-admin"),
            DdpMethod("probe/typed", self.echo, auth=False,
                      params={"type": "array", "prefixItems": [{"type": "integer"}], "maxItems": 1}),
            DdpMethod("probe/crash", self.crash, auth=False),
            DdpMethod("probe/refuse", self.refuse, auth=False),
            DdpMethod("probe/limited", self.nothing, auth=False, rate_limit=(2, 60000)),
            DdpMethod("probe/slow", self.slow, auth=False, params=ANY_PARAMS),
            DdpMethod("probe/login", self.login, auth=False, params=ANY_PARAMS),
            DdpMethod("probe/client", self.client, auth=False),
        ]

    @hookimpl
    def register_streams(self) -> list[Stream]:
        return [Stream("stream-probe", auth=False, can_read=self.can_read),
                Stream("stream-private", auth=True),
                Stream("probe-docs", auth=False, on_subscribe=self.docs)]

    async def echo(self, inv: MethodInvocation, *params: Any) -> Any:
        return {"params": list(params), "at": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)}

    async def nothing(self, inv: MethodInvocation) -> None:
        return None

    async def whoami(self, inv: MethodInvocation) -> Any:
        return inv.ctx.username

    async def client(self, inv: MethodInvocation) -> Any:
        return {"ip": inv.ctx.ip, "userAgent": inv.ctx.user_agent}

    async def crash(self, inv: MethodInvocation) -> None:
        raise RuntimeError("internal detail: password=hunter2")

    async def refuse(self, inv: MethodInvocation) -> None:
        raise MeteorError("error-probe-refused", "Refused by probe", {"method": "probe/refuse"})

    async def slow(self, inv: MethodInvocation, tag: str, delay: float) -> str:
        await asyncio.sleep(delay)
        self.order.append(tag)
        return tag

    async def login(self, inv: MethodInvocation, user_id: str, token: str) -> Any:
        from core.security import hash_token
        user = await self.auth.provide_user_by_token(user_id, hash_token(token))
        inv.set_user(user, hash_token(token))
        return {"id": user["_id"]} if user else None

    async def can_read(self, ctx: Any, event_name: str, options: Any) -> bool:
        return event_name != "forbidden"

    async def docs(self, conn: Any, sub_id: str, params: list) -> bool:
        if params == ["refuse"]:
            conn.send({"msg": "nosub", "id": sub_id, "error": {"error": "refused"}})
            return False
        conn.send({"msg": "added", "collection": "probe_docs", "id": "d1", "fields": {"n": 1}})
        return True


@pytest.fixture
async def ddp_server(server_factory):
    auth = StaticAuth({"admin": {"probe-admin"}})
    probe = DdpProbe(auth)
    srv = await server_factory(plugins=(probe, auth))
    srv.probe, srv.auth = probe, auth
    return srv


async def raw_connect(url: str, handshake: bool = True) -> Any:
    """A websockets client that does not answer DDP pings; returns it after the greeting (and connect)."""
    ws = await websockets.connect(url, max_size=None)
    assert json.loads(await ws.recv()) == {"server_id": "0"}
    if handshake:
        await ws.send(json.dumps({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]}))
        assert json.loads(await ws.recv())["msg"] == "connected"
    return ws


async def recv(ws: Any, timeout: float = 5.0) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


# -- handshake and heartbeat ---------------------------------------------------------------------------
async def test_handshake_connected_with_session(ddp_server):
    ws = await raw_connect(ddp_server.ws_url, handshake=False)
    await ws.send(json.dumps({"msg": "connect", "version": "1", "support": ["1", "pre2", "pre1"]}))
    msg = await recv(ws)
    assert msg["msg"] == "connected" and set(msg) == {"msg", "session"}
    assert len(msg["session"]) == 17 and msg["session"] in ddp_server.kernel.ddp.connections
    await ws.send(json.dumps({"msg": "connect", "version": "1"}))
    assert (await recv(ws))["reason"] == "Already connected"
    await ws.close()


@pytest.mark.parametrize("forwarded, ip", [("0", "127.0.0.1"), ("1", "203.0.113.9")])
async def test_client_address_and_agent(server_factory, forwarded, ip):
    """The socket's client address (the proxy's X-Forwarded-For hop with HTTP_FORWARDED_COUNT) and
    User-Agent reach methods, as they do REST routes."""
    srv = await server_factory(plugins=(DdpProbe(),), env={"HTTP_FORWARDED_COUNT": forwarded})
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9", "User-Agent": "OrbitProbe/1.0"}
    async with websockets.connect(srv.ws_url, additional_headers=headers, user_agent_header=None) as ws:
        assert json.loads(await ws.recv()) == {"server_id": "0"}
        await ws.send(json.dumps({"msg": "connect", "version": "1"}))
        assert json.loads(await ws.recv())["msg"] == "connected"
        await ws.send(json.dumps({"msg": "method", "id": "1", "method": "probe/client", "params": []}))
        assert (await recv(ws))["result"] == {"ip": ip, "userAgent": "OrbitProbe/1.0"}


async def test_unsupported_version_fails(ddp_server):
    ws = await raw_connect(ddp_server.ws_url, handshake=False)
    await ws.send(json.dumps({"msg": "connect", "version": "2", "support": ["2"]}))
    assert await recv(ws) == {"msg": "failed", "version": "1"}
    await ws.send(json.dumps({"msg": "method", "id": "1", "method": "probe/nothing", "params": []}))
    assert (await recv(ws))["reason"] == "Must connect first"   # a failed handshake connects nothing
    await ws.send(json.dumps({"msg": "connect", "version": "pre1"}))
    assert (await recv(ws))["msg"] == "connected"
    await ws.close()


async def test_ping_pong_with_and_without_id(ddp_server):
    ws = await raw_connect(ddp_server.ws_url)
    await ws.send(json.dumps({"msg": "ping", "id": "abc-1"}))
    assert await recv(ws) == {"msg": "pong", "id": "abc-1"}
    await ws.send(json.dumps({"msg": "ping"}))
    assert await recv(ws) == {"msg": "pong"}
    await ws.send(json.dumps({"msg": "pong"}))   # an unsolicited pong is fine and answered by nothing
    await ws.send(json.dumps({"msg": "ping", "id": "2"}))
    assert await recv(ws) == {"msg": "pong", "id": "2"}
    await ws.close()


async def test_server_pings_then_closes_unresponsive_socket(server_factory):
    srv = await server_factory(plugins=(DdpProbe(),), env={"OVERWRITE_SETTING_DDP_Heartbeat_Interval": "1"})
    answering = await srv.ddp()                  # answers every server ping
    silent = await raw_connect(srv.ws_url)       # never says anything again
    assert await recv(silent, timeout=3) == {"msg": "ping"}
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(silent.recv(), 4)
    assert closed.value.rcvd.code == 4000
    # The answering client saw pings too, answered them, and is still served.
    assert await answering.expect(lambda m: m.get("msg") == "ping") == {"msg": "ping"}
    assert not answering.closed.done()
    assert (await answering.call("probe/nothing"))["msg"] == "result"
    assert len(srv.kernel.ddp.connections) == 1


# -- methods --------------------------------------------------------------------------------------------
async def test_unknown_method_is_404(ddp_server):
    ddp = await ddp_server.ddp()
    msg = await ddp.call("no/such/method", 1)
    assert msg["error"] == {"isClientSafe": True, "error": 404, "reason": "Method 'no/such/method' not found",
                            "message": "Method 'no/such/method' not found [404]", "errorType": "Meteor.Error"}
    assert await ddp.expect(lambda m: m.get("msg") == "updated") == {"msg": "updated", "methods": [msg["id"]]}


async def test_method_result_is_ejson_and_updated_follows(ddp_server):
    ws = await raw_connect(ddp_server.ws_url)
    await ws.send(json.dumps({"msg": "method", "id": "m1", "method": "probe/echo",
                              "params": ["a", {"when": {"$date": 1700000000000}}]}))
    result = await recv(ws)
    # Params are EJSON-decoded for the handler and results EJSON-encoded for the client.
    assert result == {"msg": "result", "id": "m1",
                      "result": {"params": ["a", {"when": {"$date": 1700000000000}}],
                                 "at": {"$date": 1767323045678}}}
    assert await recv(ws) == {"msg": "updated", "methods": ["m1"]}
    await ws.send(json.dumps({"msg": "method", "id": "m2", "method": "probe/nothing", "params": []}))
    assert await recv(ws) == {"msg": "result", "id": "m2"}   # no `result` key for None
    await ws.close()


async def test_method_errors(ddp_server):
    ddp = await ddp_server.ddp()
    err = (await ddp.call("probe/whoami"))["error"]
    assert (err["error"], err["reason"]) == (401, "You must be logged in to do this.")
    err = (await ddp.call("probe/typed", "not-an-int"))["error"]
    assert err["error"] == "error-invalid-params" and err["details"] == {"method": "probe/typed"}
    err = (await ddp.call("probe/crash"))["error"]
    assert err == {"isClientSafe": True, "error": 500, "reason": "Internal server error",
                   "message": "Internal server error [500]", "errorType": "Meteor.Error"}
    err = (await ddp.call("probe/refuse"))["error"]
    assert (err["error"], err["reason"], err["details"]) == ("error-probe-refused", "Refused by probe",
                                                             {"method": "probe/refuse"})
    assert "result" not in await ddp.call("probe/limited")
    assert "result" not in await ddp.call("probe/limited")
    err = (await ddp.call("probe/limited"))["error"]
    assert err["error"] == "too-many-requests" and 0 < err["details"]["timeToReset"] <= 60000
    await ddp.send({"msg": "method", "method": "probe/nothing", "params": []})   # no id
    assert (await ddp.expect(lambda m: m.get("msg") == "error"))["reason"] == "Malformed method invocation"


async def test_login_makes_connection_authenticated(ddp_server):
    headers = ddp_server.auth.add_user("carol", ("admin",))
    plain = ddp_server.auth.add_user("dave")
    ddp = await ddp_server.ddp()
    assert (await ddp.call("probe/login", headers["X-User-Id"], headers["X-Auth-Token"]))["result"] == {
        "id": headers["X-User-Id"]}
    assert (await ddp.call("probe/whoami"))["result"] == "carol"
    assert "error" not in await ddp.call("probe/admin")
    other = await ddp_server.ddp()
    await other.call("probe/login", plain["X-User-Id"], plain["X-Auth-Token"])
    err = (await other.call("probe/admin"))["error"]
    assert err["error"] == "error-action-not-allowed"
    assert (await other.call("probe/whoami"))["result"] == "dave"   # sessions do not share users


async def test_methods_of_one_connection_run_in_order(ddp_server):
    ddp = await ddp_server.ddp()
    await ddp.send({"msg": "method", "id": "slow", "method": "probe/slow", "params": ["first", 0.3]})
    await ddp.send({"msg": "method", "id": "fast", "method": "probe/slow", "params": ["second", 0]})
    await ddp.send({"msg": "ping", "id": "p"})
    first = await ddp.expect(lambda m: m.get("msg") in ("result", "pong"))
    assert first == {"msg": "pong", "id": "p"}   # pings are answered at once, not queued behind methods
    results = [await ddp.expect(lambda m: m.get("msg") == "result") for _ in range(2)]
    assert [r["id"] for r in results] == ["slow", "fast"]
    assert ddp_server.probe.order == ["first", "second"]


# -- bad frames -----------------------------------------------------------------------------------------
async def test_malformed_json_gets_error_and_connection_stays(ddp_server):
    ws = await raw_connect(ddp_server.ws_url)
    await ws.send("{this is not json")
    err = await recv(ws)
    assert err == {"msg": "error", "reason": "Bad request", "offendingMessage": "{this is not json"}
    for bad in ("42", '"text"', "[1, 2]", '{"no": "msg"}', '{"msg": 5}', '{"msg": "bogus"}'):
        await ws.send(bad)
        assert (await recv(ws))["msg"] == "error", bad
    await ws.send(json.dumps({"msg": "ping", "id": "still-here"}))
    assert await recv(ws) == {"msg": "pong", "id": "still-here"}
    await ws.close()


async def test_sockjs_style_array_frames_are_unwrapped(ddp_server):
    ws = await raw_connect(ddp_server.ws_url)
    pings = [json.dumps({"msg": "ping", "id": "a"}), json.dumps({"msg": "ping", "id": "b"})]
    await ws.send(json.dumps(pings))
    assert [await recv(ws), await recv(ws)] == [{"msg": "pong", "id": "a"}, {"msg": "pong", "id": "b"}]
    await ws.close()


async def test_method_or_sub_before_connect_is_an_error(ddp_server):
    ws = await raw_connect(ddp_server.ws_url, handshake=False)
    await ws.send(json.dumps({"msg": "method", "id": "1", "method": "probe/nothing", "params": []}))
    err = await recv(ws)
    assert err["msg"] == "error" and err["reason"] == "Must connect first"
    assert err["offendingMessage"]["method"] == "probe/nothing"
    await ws.send(json.dumps({"msg": "sub", "id": "s", "name": "stream-probe", "params": ["e"]}))
    assert (await recv(ws))["reason"] == "Must connect first"
    await ws.close()


async def test_oversized_frame_closes_only_that_connection(server_factory):
    srv = await server_factory(plugins=(DdpProbe(),), max_ddp_frame_bytes=4096)
    bystander = await srv.ddp()
    offender = await raw_connect(srv.ws_url)
    big = {"msg": "method", "id": "1", "method": "probe/echo", "params": ["x" * 8000]}
    await offender.send(json.dumps(big))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(offender.recv(), 5)
    assert closed.value.rcvd.code == 1009
    assert (await bystander.call("probe/echo", "y" * 3000))["result"]["params"] == ["y" * 3000]
    assert not bystander.closed.done()


async def test_binary_frame_closes_with_1007(ddp_server):
    bystander = await ddp_server.ddp()
    ws = await raw_connect(ddp_server.ws_url)
    await ws.send(b"\x00\x01binary")
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd.code == 1007
    assert (await bystander.call("probe/nothing"))["msg"] == "result"


# -- subscriptions and stream events --------------------------------------------------------------------
async def test_sub_to_unknown_publication_is_nosub_404(ddp_server):
    ddp = await ddp_server.ddp()
    msg = await ddp.sub("no-such-publication", "x")
    assert msg["msg"] == "nosub" and msg["id"] == msg["_sub_id"]
    assert msg["error"]["error"] == 404
    assert msg["error"]["reason"] == "Subscription 'no-such-publication' not found"


async def test_stream_sub_changed_unsub(ddp_server):
    kernel = ddp_server.kernel
    ws = await raw_connect(ddp_server.ws_url)
    await ws.send(json.dumps({"msg": "sub", "id": "s1", "name": "stream-probe", "params": ["evt", False]}))
    assert await recv(ws) == {"msg": "ready", "subs": ["s1"]}
    assert kernel.ddp.subscriber_count("stream-probe", "evt") == 1
    when = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    assert kernel.ddp.publish("stream-probe", "evt", [{"ts": when, "n": 1}, "two"]) == 1
    assert kernel.ddp.publish("stream-probe", "other-event", ["not for us"]) == 0
    args = [{"ts": {"$date": 1772600767890}, "n": 1}, "two"]
    assert await recv(ws) == {"msg": "changed", "collection": "stream-probe", "id": "id",
                              "fields": {"eventName": "evt", "args": args}}
    await ws.send(json.dumps({"msg": "unsub", "id": "s1"}))
    assert await recv(ws) == {"msg": "nosub", "id": "s1"}
    assert kernel.ddp.publish("stream-probe", "evt", ["after unsub"]) == 0
    await ws.send(json.dumps({"msg": "ping", "id": "p"}))
    assert await recv(ws) == {"msg": "pong", "id": "p"}   # nothing was queued before the pong
    await ws.close()


async def test_publish_reaches_every_subscriber_but_excluded(ddp_server):
    a, b, c = await ddp_server.ddp(), await ddp_server.ddp(), await ddp_server.ddp()
    for client in (a, b):
        assert (await client.sub("stream-probe", "room1", False))["msg"] == "ready"
    assert (await c.sub("stream-probe", "room2", False))["msg"] == "ready"
    assert ddp_server.kernel.ddp.publish("stream-probe", "room1", ["hello"], exclude=a.session) == 1
    msg = await b.expect(lambda m: m.get("msg") == "changed")
    assert msg["fields"] == {"eventName": "room1", "args": ["hello"]}
    for client in (a, c):
        await client.send({"msg": "ping", "id": "p"})
        assert (await client.expect(lambda m: m.get("msg") in ("changed", "pong")))["msg"] == "pong"


async def test_sub_refusals(ddp_server):
    ddp = await ddp_server.ddp()
    private = await ddp.sub("stream-private", "evt")
    assert private["msg"] == "nosub" and private["error"]["error"] == "not-allowed"
    forbidden = await ddp.sub("stream-probe", "forbidden")
    assert forbidden["msg"] == "nosub" and forbidden["error"]["error"] == "not-allowed"
    unnamed = await ddp.sub("stream-probe")
    assert unnamed["msg"] == "nosub" and unnamed["error"]["error"] == "invalid-event-name"
    await ddp.send({"msg": "sub", "id": "dup", "name": "stream-probe", "params": ["e"]})
    await ddp.send({"msg": "sub", "id": "dup", "name": "stream-probe", "params": ["e"]})
    assert (await ddp.expect(lambda m: m.get("id") == "dup" or "dup" in m.get("subs", [])))["msg"] == "ready"
    again = await ddp.expect(lambda m: m.get("id") == "dup")
    assert again["msg"] == "nosub" and again["error"]["error"] == 400
    await ddp.send({"msg": "unsub", "id": "never-subscribed"})
    assert await ddp.expect(lambda m: m.get("msg") == "nosub") == {"msg": "nosub", "id": "never-subscribed"}


async def test_publication_with_its_own_documents(ddp_server):
    ddp = await ddp_server.ddp()
    ready = await ddp.sub("probe-docs")
    assert ready["msg"] == "ready"
    added = await ddp.expect(lambda m: m.get("msg") == "added")
    assert added == {"msg": "added", "collection": "probe_docs", "id": "d1", "fields": {"n": 1}}
    refused = await ddp.sub("probe-docs", "refuse")
    assert refused == {"msg": "nosub", "id": refused["_sub_id"], "error": {"error": "refused"},
                       "_sub_id": refused["_sub_id"]}


async def test_disconnect_cleans_up_subscriptions(ddp_server):
    kernel = ddp_server.kernel
    events: list = []
    await kernel.broker.subscribe("socket.disconnected", events.append)
    ddp = await ddp_server.ddp()
    await ddp.sub("stream-probe", "evt", False)
    assert kernel.ddp.subscriber_count("stream-probe", "evt") == 1
    await ddp.close()
    async with asyncio.timeout(5):
        while ddp.session in kernel.ddp.connections or kernel.ddp.subscriber_count("stream-probe", "evt"):
            await asyncio.sleep(0.02)
    assert events == [{"connectionId": ddp.session, "userId": None}]


# -- back-pressure --------------------------------------------------------------------------------------
async def test_slow_consumer_is_dropped_others_keep_receiving(server_factory):
    srv = await server_factory(plugins=(DdpProbe(),), ddp_send_queue=8)
    kernel = srv.kernel
    fast = await srv.ddp()
    await fast.sub("stream-probe", "evt", False)
    host, port = srv.base_url.removeprefix("http://").split(":")
    slow = await RawWebsocket.connect(host, int(port), rcvbuf=4096)   # reads nothing until told
    await slow.send_text(json.dumps({"msg": "connect", "version": "1", "support": ["1"]}))
    await slow.send_text(json.dumps({"msg": "sub", "id": "s1", "name": "stream-probe",
                                     "params": ["evt", False]}))
    async with asyncio.timeout(5):
        while kernel.ddp.subscriber_count("stream-probe", "evt") < 2:
            await asyncio.sleep(0.01)
    slow_conn = next(c for c in kernel.ddp.connections.values() if c.id != fast.session)
    payload = "x" * 65536
    sent = 0
    try:
        # Publish until the server gives up on the client that does not read; the reading one gets each event.
        while slow_conn.closing is None:
            assert sent < 2000, "the slow consumer was never dropped"
            kernel.ddp.publish("stream-probe", "evt", [sent, payload])
            msg = await fast.expect(lambda m: m.get("msg") == "changed", timeout=5)
            assert msg["fields"]["args"][0] == sent
            sent += 1
        assert slow_conn.closing == 1013
        # Dropped although its socket takes no more data: no registration, no subscription left.
        async with asyncio.timeout(10):
            while (slow_conn.id in kernel.ddp.connections
                   or kernel.ddp.subscriber_count("stream-probe", "evt") > 1):
                await asyncio.sleep(0.05)
        assert list(kernel.ddp.connections) == [fast.session]
        # The reading client carries on.
        kernel.ddp.publish("stream-probe", "evt", ["after", "drop"])
        assert (await fast.expect(lambda m: m.get("msg") == "changed"))["fields"]["args"] == ["after", "drop"]
        # The slow one, once it reads, finds fewer events than were published, then a 1013 close.
        texts, code = await asyncio.wait_for(slow.read_until_close(), 10)
    finally:
        slow.close()
    assert code == 1013
    assert texts < sent + 3   # greeting, connected, ready and part of the events
