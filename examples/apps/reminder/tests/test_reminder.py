"""Reminder installed into a real OrbitChat: the command is confirmed at once, the reminder comes later, both
as ephemeral messages on the user's websocket, never stored in the room."""
from __future__ import annotations

import asyncio
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent


async def test_remind_in_two_seconds(orbit):
    await orbit.install_app(APP_DIR)
    rid = (await orbit.create_channel("kitchen", members=[orbit.user.username]))["_id"]
    ws = await orbit.ddp()
    event = f"{orbit.user.id}/message"
    await ws.subscribe("stream-notify-user", event)

    loop = asyncio.get_running_loop()
    asked = loop.time()
    await orbit.run_command("remind", rid, "in 2 seconds do X")
    [confirmation] = await ws.next_event("stream-notify-user", event)
    assert confirmation["msg"] == 'OK, I will remind you in 2 seconds: "do X"'

    [reminder] = await ws.next_event("stream-notify-user", event, timeout=10)
    assert loop.time() - asked >= 1.9
    assert (reminder["msg"], reminder["rid"], reminder["u"]["username"]) == ("⏰ Reminder: do X", rid, "reminder.bot")
    assert [m for m in await orbit.history(rid) if m["u"]["username"] == "reminder.bot"] == []
    assert await orbit.db["rocketchat_apps_scheduler"].count_documents({}) == 0    # a one-off job is gone


async def test_what_does_not_parse_gets_the_usage(orbit):
    await orbit.install_app(APP_DIR)
    rid = (await orbit.create_channel("kitchen", members=[orbit.user.username]))["_id"]
    ws = await orbit.ddp()
    await ws.subscribe("stream-notify-user", f"{orbit.user.id}/message")
    for params in ("tomorrow buy milk", "in 2 fortnights rest", "in 0 seconds now", "in 90 days later"):
        await orbit.run_command("remind", rid, params)
        [note] = await ws.next_event("stream-notify-user", f"{orbit.user.id}/message")
        assert note["msg"].startswith("Usage: /remind"), params
