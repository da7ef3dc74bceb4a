"""Word Filter installed into a real OrbitChat: refusals, masking, and an admin changing the word lists."""
from __future__ import annotations

from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent


def texts(messages: list[dict]) -> list[str]:
    return [m["msg"] for m in messages if not m.get("t")]


async def test_banned_words_are_refused_and_soft_words_masked(orbit):
    await orbit.install_app(APP_DIR)
    room = await orbit.create_channel("lounge", members=[orbit.user.username])
    rid = room["_id"]
    watcher = await orbit.ddp(orbit.admin)
    await watcher.subscribe("stream-room-messages", rid)

    refused = await orbit.send_message(rid, "Free money, not a SCAM!", check=False)
    assert refused.status_code == 400
    assert refused.json()["success"] is False
    assert refused.json()["details"]["reason"] == "Your message contains a banned word (scam)"

    masked = await orbit.send_message(rid, "darn it, Heck")
    assert masked["msg"] == "d**n it, H**k"
    seen = await watcher.next_event("stream-room-messages", rid)   # the refused message never reached the room
    assert seen[0]["_id"] == masked["_id"] and seen[0]["msg"] == "d**n it, H**k"

    assert (await orbit.send_message(rid, "scammers and darning"))["msg"] == "scammers and darning"  # whole words
    assert texts(await orbit.history(rid)) == ["scammers and darning", "d**n it, H**k"]


async def test_an_admin_changes_the_word_lists(orbit):
    app = await orbit.install_app(APP_DIR)
    rid = (await orbit.create_channel("lounge", members=[orbit.user.username]))["_id"]
    assert (await orbit.send_message(rid, "darn"))["msg"] == "d**n"      # the package values are in force

    await app.set_settings({"banned_words": "spoiler", "masked_words": "rats", "mask": "#"})
    assert (await orbit.send_message(rid, "no scam, darn"))["msg"] == "no scam, darn"
    assert (await orbit.send_message(rid, "rats!"))["msg"] == "r##s!"
    assert (await orbit.send_message(rid, "Spoiler: he lives", check=False)).status_code == 400

    async def refusal_logged() -> list[str]:
        return [line for line in await app.logs() if "contains 'spoiler'" in line]
    assert (await orbit.wait_for(refusal_logged))[0].startswith("info app:log: refused a message in lounge")
