"""Install, disable, enable, update and uninstall through REST, each taking effect on the next message."""
from __future__ import annotations

from tests.plugins.apps_engine.conftest import build_zip


async def test_install_takes_effect_on_next_message(world):
    admin, alice = world.admin, world.alice
    assert (await alice.send(world.rid, "a badword before")).status_code == 200
    body = await admin.installed(build_zip("wordfilter"))
    assert body["app"]["id"] == "word-filter" and body["app"]["status"] == "manually_enabled"
    assert body["implemented"] == {"pre_message_sent_prevent": True, "pre_message_sent_modify": True}
    refused = await alice.send(world.rid, "a badword after")
    assert refused.status_code == 400 and refused.json()["errorType"] == "error-app-prevented", refused.text
    softened = await alice.send(world.rid, "oh darn")
    assert softened.json()["message"]["msg"] == "oh ****"
