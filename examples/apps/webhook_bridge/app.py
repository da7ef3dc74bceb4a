"""Webhook bridge between a room and another system.

Incoming: `POST /api/apps/public/<appId>/incoming` with `{"text": ..., "alias"?: ...}` and the shared token
posts the text into the configured room. Outgoing: every message people write in that room is POSTed as JSON
to the configured URL through the server's http accessor; a JSON answer with a `text` is posted back.
"""
from __future__ import annotations

import hmac
from typing import Any

from apps_sdk import App, Configuration, Endpoint

MAX_TEXT = 5000


def answer(status: int, **content: Any) -> dict:
    return {"status": status, "content": content}


class WebhookBridgeApp(App):
    def extend_configuration(self, config: Configuration) -> None:
        config.endpoint(Endpoint("incoming", self.incoming, methods=("POST",)))

    @property
    def bot_username(self) -> str:
        return f"{self.info['nameSlug']}.bot"

    async def incoming(self, request: dict) -> dict:
        expected = await self.settings.get("token") or ""
        given = request["headers"].get("x-bridge-token") or request["query"].get("token") or ""
        if not expected or not hmac.compare_digest(str(given).encode(), expected.encode()):
            return answer(401, ok=False, error="bad or missing token")
        body = request.get("content")
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            return answer(400, ok=False, error=f"send JSON with a `text` of 1 to {MAX_TEXT} characters")
        alias = body.get("alias")
        room = await self.reader.get_room_by_name(await self.settings.get("room"))
        if room is None:
            return answer(404, ok=False, error="the configured room does not exist")
        message = await self.modifier.send_message(room["_id"], text,
                                                   alias=alias[:50] if isinstance(alias, str) and alias else None)
        return answer(200, ok=True, messageId=message["_id"])

    async def post_message_sent(self, message: dict, room: dict, ctx: Any) -> None:
        url = await self.settings.get("outgoing_url")
        author = (message.get("u") or {}).get("username")
        if not url or message.get("t") or author == self.bot_username:
            return
        if room.get("name") != await self.settings.get("room"):
            return
        payload = {"text": message.get("msg", ""), "user": author, "room": room.get("name"),
                   "messageId": message.get("_id")}
        try:
            response = await self.http.post(url, json=payload)
        except Exception:
            self.logger.exception("forwarding message %s to %s failed", message.get("_id"), url)
            return
        if response["status"] >= 300:
            self.logger.warning("%s answered HTTP %s", url, response["status"])
            return
        reply = response.get("data")
        if isinstance(reply, dict) and isinstance(reply.get("text"), str) and reply["text"]:
            await self.modifier.send_message(room["_id"], reply["text"][:MAX_TEXT])
