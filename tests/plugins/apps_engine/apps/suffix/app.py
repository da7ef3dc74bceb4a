"""Test app: appends its SUFFIX to every message (two copies with different suffixes show the order)."""
from apps_sdk import App

SUFFIX = " [A]"


class Suffix(App):
    async def pre_message_sent_modify(self, message, room, ctx):
        return {**message, "msg": (message.get("msg") or "") + SUFFIX}

    async def pre_message_sent_prevent(self, message, room, ctx):
        return True   # implemented but not declared in app.json: must never be called
