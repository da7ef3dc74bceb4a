"""Poll installed into a real OrbitChat: /poll posts a message with buttons; block actions from two users are
counted (one vote each, changeable), shown on the poll message and confirmed to the voter on the websocket."""
from __future__ import annotations

from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent


def vote(mid: str, rid: str, option: int) -> dict:
    """The interaction a client sends when a poll button is clicked."""
    return {"type": "blockAction", "actionId": "vote", "mid": mid, "rid": rid,
            "payload": {"blockId": "poll-options", "value": str(option)},
            "container": {"type": "message", "id": mid}}


async def start(orbit) -> tuple:
    app = await orbit.install_app(APP_DIR)
    bob = await orbit.create_user("bob")
    rid = (await orbit.create_channel("team", members=[orbit.user.username, "bob"]))["_id"]
    ws = await orbit.ddp()                                  # alice's client
    await ws.subscribe("stream-room-messages", rid)
    await ws.subscribe("stream-notify-user", f"{orbit.user.id}/message")
    await orbit.run_command("poll", rid, "Lunch? | Pizza | Sushi")
    [poll] = await ws.next_event("stream-room-messages", rid)
    return app, bob, rid, ws, poll


async def test_poll_message_and_votes(orbit):
    app, bob, rid, ws, poll = await start(orbit)
    assert poll["msg"] == "Lunch?" and poll["u"]["username"] == "poll.bot"
    [actions] = [b for b in poll["blocks"] if b["type"] == "actions"]
    assert [(e["text"]["text"], e["value"], e["appId"]) for e in actions["elements"]] == \
        [("Pizza", "0", app.id), ("Sushi", "1", app.id)]

    assert await orbit.interact(app.id, vote(poll["_id"], rid, 1)) == {"success": True}
    [note] = await ws.next_event("stream-notify-user", f"{orbit.user.id}/message")
    assert note["msg"] == 'You voted for "Sushi". Now: Pizza 0 · Sushi 1' and note["rid"] == rid

    bob_ws = await orbit.ddp(bob)                                     # bob clicks in a websocket client
    reply = await bob_ws.call("uikit.interaction", app.id, vote(poll["_id"], rid, 0))
    assert reply["result"] == {"success": True}, reply
    await orbit.interact(app.id, vote(poll["_id"], rid, 0))          # alice changes her vote
    [note] = await ws.next_event("stream-notify-user", f"{orbit.user.id}/message")
    assert note["msg"] == 'You voted for "Pizza". Now: Pizza 2 · Sushi 0'

    refused = await orbit.interact(app.id, vote(poll["_id"], rid, 7))
    assert refused == {"success": False, "error": "Unknown poll or option"}


async def test_bad_syntax_gets_the_usage(orbit):
    await orbit.install_app(APP_DIR)
    rid = (await orbit.create_channel("team", members=[orbit.user.username]))["_id"]
    ws = await orbit.ddp()
    await ws.subscribe("stream-notify-user", f"{orbit.user.id}/message")
    await orbit.run_command("poll", rid, "Lunch? | only one option")
    [note] = await ws.next_event("stream-notify-user", f"{orbit.user.id}/message")
    assert note["msg"].startswith("Usage: /poll")
    assert [m for m in await orbit.history(rid) if m["u"]["username"] == "poll.bot"] == []


def counts_line(message: dict) -> str:
    [context] = [b for b in message["blocks"] if b["type"] == "context"]
    return context["elements"][0]["text"]


async def test_votes_update_the_poll_message(orbit):
    app, bob, rid, ws, poll = await start(orbit)
    assert counts_line(poll) == "Pizza 0 · Sushi 0  (0 votes, poll by @alice)"
    await orbit.interact(app.id, vote(poll["_id"], rid, 1), by=bob)
    [edited] = await ws.next_event("stream-room-messages", rid, where=lambda args: args[0]["_id"] == poll["_id"])
    assert counts_line(edited) == "Pizza 0 · Sushi 1  (1 vote, poll by @alice)"
    await orbit.interact(app.id, vote(poll["_id"], rid, 0))
    [edited] = await ws.next_event("stream-room-messages", rid, where=lambda args: args[0]["_id"] == poll["_id"])
    assert counts_line(edited) == "Pizza 1 · Sushi 1  (2 votes, poll by @alice)"
    stored = (await orbit.user.ok("GET", "chat.getMessage", params={"msgId": poll["_id"]}))["message"]
    assert counts_line(stored) == counts_line(edited) and stored["msg"] == "Lunch?"
    assert [e["value"] for b in stored["blocks"] if b["type"] == "actions" for e in b["elements"]] == ["0", "1"]


async def test_poll_alone_opens_a_form(orbit):
    app = await orbit.install_app(APP_DIR)
    bob = await orbit.create_user("bob")
    rid = (await orbit.create_channel("team", members=[orbit.user.username, "bob"]))["_id"]
    ws = await orbit.ddp()
    await ws.subscribe("stream-room-messages", rid)
    await ws.subscribe("stream-notify-user", f"{orbit.user.id}/uiInteraction")

    await orbit.run_command("poll", rid, trigger_id="trigger-1")
    [opened] = await ws.next_event("stream-notify-user", f"{orbit.user.id}/uiInteraction")
    view = opened["view"]
    assert (opened["type"], opened["triggerId"], opened["appId"], view["type"]) == \
        ("modal.open", "trigger-1", app.id, "modal")
    assert [b["blockId"] for b in view["blocks"]] == ["question", "options"]

    def submit(question: str, options: str) -> dict:
        state = {"question": {"question": question}, "options": {"options": options}}
        return {"type": "viewSubmit", "viewId": view["id"], "payload": {"view": {"id": view["id"], "state": state}}}

    errors = await orbit.interact(app.id, submit("Tea?", "Green"))
    assert (errors["success"], errors["type"], errors["errors"]) == \
        (False, "errors", {"options": "Give 2 to 10 options, one per line"})
    assert await orbit.interact(app.id, submit("Tea?", "Green\nBlack"), by=bob) == \
        {"success": False, "error": "This form has expired"}           # not bob's form
    assert await orbit.interact(app.id, submit("Tea?", "Green\n\nBlack\n")) == {"success": True}
    [poll] = await ws.next_event("stream-room-messages", rid)
    assert poll["msg"] == "Tea?" and counts_line(poll) == "Green 0 · Black 0  (0 votes, poll by @alice)"
    assert (await orbit.interact(app.id, submit("Tea?", "Green\nBlack")))["success"] is False   # used up
