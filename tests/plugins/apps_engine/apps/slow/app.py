"""Test app: takes its time over every message and refuses those containing its WORD."""
import asyncio

from apps_sdk import App

WORD = "slow-1-refuses"


class Slow(App):
    async def pre_message_sent_prevent(self, message, room, ctx):
        await asyncio.sleep(0.3)
        return f"{WORD} found" if WORD in (message.get("msg") or "") else False
