"""Reminder: `/remind in 2 seconds do X` schedules a one-off job; when it is due, the `remind` processor
tells the user privately (an ephemeral message in the room the command was run in)."""
from __future__ import annotations

import re

from apps_sdk import App, CommandContext, Configuration, Processor, SlashCommand

USAGE = "Usage: /remind in <number> <seconds|minutes|hours|days> <what to remember>"
UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
         "d": 86400, "day": 86400}
NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
MAX_DELAY = 30 * 86400
_REQUEST = re.compile(r"^in\s+(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s+(.+)$", re.IGNORECASE | re.DOTALL)


def parse(params: str) -> tuple[float, str, str] | None:
    """`in 2 seconds do X` → (2.0, "2 seconds", "do X"); None when it does not parse or is out of range."""
    m = _REQUEST.match(params.strip())
    if not m or m.group(2).lower() not in UNITS:
        return None
    amount, unit = float(m.group(1)), m.group(2).lower()
    delay = amount * UNITS[unit]
    if not 1 <= delay <= MAX_DELAY:
        return None
    shown = f"{m.group(1)} {NAMES[UNITS[unit]]}{'' if amount == 1 else 's'}"
    return delay, shown, m.group(3).strip()


class ReminderApp(App):
    def extend_configuration(self, config: Configuration) -> None:
        config.slash_command(SlashCommand("remind", self.remind, description="Remind me later",
                                          params_example="in 10 minutes check the oven"))
        config.processor(Processor("remind", self.fire))

    async def remind(self, ctx: CommandContext) -> None:
        uid, rid = ctx.sender["_id"], ctx.room["_id"]
        parsed = parse(" ".join(ctx.args))
        if parsed is None:
            await self.modifier.notify_user(uid, rid, USAGE)
            return
        delay, shown, text = parsed
        await self.scheduler.schedule_once("remind", delay, {"uid": uid, "rid": rid, "text": text})
        await self.modifier.notify_user(uid, rid, f'OK, I will remind you in {shown}: "{text}"')

    async def fire(self, job: dict) -> None:
        await self.modifier.notify_user(job["uid"], job["rid"], f"⏰ Reminder: {job['text']}")
