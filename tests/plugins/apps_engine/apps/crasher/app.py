"""Test app: dies or spins when asked to by a message; otherwise has no objection."""
import os

from apps_sdk import App


class Crasher(App):
    async def pre_message_sent_prevent(self, message, room, ctx):
        text = message.get("msg") or ""
        if "crash-now" in text:
            os._exit(3)
        if "spin-now" in text:
            while True:
                pass
        return "crasher says no" if "crasher-refuse" in text else False
