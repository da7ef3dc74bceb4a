"""Webhook Bridge installed into a real OrbitChat: a webhook posts into the room (seen on the websocket), and
the room's messages reach a local HTTP server through the http accessor once an admin allows private
addresses."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
BOT = "webhook-bridge.bot"


@pytest.fixture
def receiver():
    """A local HTTP server recording the JSON it is sent and answering `{"text": "ack: <text>"}`."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "body": body})
            reply = json.dumps({"text": f"ack: {body['text']}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.received = received
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield server
    server.shutdown()
    server.server_close()


async def test_incoming_webhook_posts_into_the_room(orbit):
    app = await orbit.install_app(APP_DIR, settings={"room": "alerts", "token": "s3cret"})
    rid = (await orbit.create_channel("alerts", members=[orbit.user.username]))["_id"]
    ws = await orbit.ddp()
    await ws.subscribe("stream-room-messages", rid)

    wrong = await app.call_endpoint("POST", "incoming", params={"token": "guess"}, json={"text": "hi"})
    assert wrong.status_code == 401 and wrong.json() == {"ok": False, "error": "bad or missing token"}
    empty = await app.call_endpoint("POST", "incoming", headers={"X-Bridge-Token": "s3cret"}, json={"txt": 1})
    assert empty.status_code == 400

    ok = await app.call_endpoint("POST", "incoming", headers={"X-Bridge-Token": "s3cret"},
                                 json={"text": "Build #42 passed", "alias": "CI"})
    assert ok.status_code == 200 and ok.json()["ok"] is True
    [message] = await ws.next_event("stream-room-messages", rid)
    assert (message["_id"], message["msg"], message["alias"], message["u"]["username"]) == \
        (ok.json()["messageId"], "Build #42 passed", "CI", BOT)


async def test_room_messages_go_out_once_private_addresses_are_allowed(orbit, receiver):
    app = await orbit.install_app(APP_DIR, settings={"room": "alerts", "outgoing_url": receiver.url})
    rid = (await orbit.create_channel("alerts", members=[orbit.user.username]))["_id"]
    ws = await orbit.ddp()
    await ws.subscribe("stream-room-messages", rid)

    # By default the server refuses apps' requests to private and loopback addresses (SSRF guard).
    await orbit.send_message(rid, "anyone there?")

    async def refusal() -> list[str]:
        return [line for line in await app.logs() if "forwarding message" in line]
    assert "private or local address" in (await orbit.wait_for(refusal))[0]
    assert receiver.received == []

    await orbit.set_setting("Apps_Allow_Private_Network", True)
    sent = await orbit.send_message(rid, "deploy please")
    reply = await ws.next_event("stream-room-messages", rid,
                                where=lambda args: args[0]["u"]["username"] == BOT)
    assert reply[0]["msg"] == "ack: deploy please"
    assert receiver.received == [{"path": "/hook", "body": {"text": "deploy please", "user": "alice",
                                                            "room": "alerts", "messageId": sent["_id"]}}]
