"""DDP presence methods: default status, connection-level away/online, setUserStatus with text."""
import asyncio

from tests.plugins.presence.conftest import connections, create_user, login, user_doc, wait_status


async def test_set_default_status_busy_and_away(srv, events):
    alice = await create_user(srv, "alice")
    client = await login(srv, alice)
    await wait_status(srv, alice, "online")

    reply = await client.call("UserPresence:setDefaultStatus", "busy")
    assert reply["result"] is True
    doc = await wait_status(srv, alice, "busy", statusDefault="busy", statusConnection="online")
    await events.wait_for(lambda e: e["user"]["_id"] == alice.id and e["user"]["status"] == "busy"
                          and e["previousStatus"] == "online")

    await client.call("UserPresence:setDefaultStatus", "away")
    await wait_status(srv, alice, "away", statusDefault="away")

    await client.call("UserPresence:setDefaultStatus", "online")
    doc = await wait_status(srv, alice, "online", statusDefault="online")
    assert doc["statusConnection"] == "online"


async def test_default_status_survives_reconnect_and_offline_wins_when_disconnected(srv):
    bob = await create_user(srv, "bob")
    client = await login(srv, bob)
    await client.call("UserPresence:setDefaultStatus", "busy")
    await wait_status(srv, bob, "busy")
    await client.close()
    await wait_status(srv, bob, "offline", statusDefault="busy")
    await login(srv, bob)
    await wait_status(srv, bob, "busy", statusConnection="online")


async def test_invisible_is_offline_for_others(srv, events):
    carol = await create_user(srv, "carol")
    client = await login(srv, carol)
    await wait_status(srv, carol, "online")
    await client.call("UserPresence:setDefaultStatus", "offline")
    await wait_status(srv, carol, "offline", statusDefault="offline", statusConnection="online")
    await events.wait_for(lambda e: e["user"]["_id"] == carol.id and e["user"]["status"] == "offline")
    assert len(await connections(srv, carol)) == 1   # still connected, just invisible


async def test_invisible_can_be_disabled(start):
    srv = await start(env={"OVERWRITE_SETTING_Accounts_AllowInvisibleStatusOption": "false"})
    dave = await create_user(srv, "dave")
    client = await login(srv, dave)
    await wait_status(srv, dave, "online")
    for reply in (await client.call("UserPresence:setDefaultStatus", "offline"),
                  await client.call("setUserStatus", "offline")):
        assert reply["error"]["error"] == "error-status-not-allowed"
        assert reply["error"]["reason"] == "Invisible status is disabled"
    assert (await user_doc(srv, dave))["statusDefault"] == "online"


async def test_away_with_one_connection_is_away_and_online_comes_back(srv, events):
    erin = await create_user(srv, "erin")
    client = await login(srv, erin)
    await wait_status(srv, erin, "online")
    assert (await client.call("UserPresence:away"))["result"] is True
    await wait_status(srv, erin, "away", statusConnection="away", statusDefault="online")
    [conn] = await connections(srv, erin)
    assert conn["status"] == "away"
    await events.wait_for(lambda e: e["user"]["status"] == "away" and e["previousStatus"] == "online")

    # The web client sends its own user id as a (legacy) argument.
    assert (await client.call("UserPresence:online", erin.id))["result"] is True
    await wait_status(srv, erin, "online", statusConnection="online")


async def test_one_away_connection_and_one_online_connection_is_online(srv):
    frank = await create_user(srv, "frank")
    idle = await login(srv, frank)
    await login(srv, frank)
    await wait_status(srv, frank, "online")
    await idle.call("UserPresence:away")
    statuses = sorted(c["status"] for c in await connections(srv, frank))
    assert statuses == ["away", "online"]
    assert (await user_doc(srv, frank))["status"] == "online"


async def test_busy_user_going_idle_stays_busy(srv):
    gina = await create_user(srv, "gina")
    client = await login(srv, gina)
    await client.call("UserPresence:setDefaultStatus", "busy")
    await client.call("UserPresence:away")
    await wait_status(srv, gina, "busy", statusConnection="away")


async def test_cannot_change_another_users_status(srv):
    hank = await create_user(srv, "hank")
    ivy = await create_user(srv, "ivy")
    client = await login(srv, hank)
    reply = await client.call("UserPresence:away", ivy.id)
    assert reply["error"]["error"] == "cannot-change-other-users-status"
    reply = await client.call("UserPresence:setDefaultStatus", ivy.id, "busy")
    assert reply["error"]["error"] == "cannot-change-other-users-status"
    assert (await client.call("UserPresence:setDefaultStatus", hank.id, "busy"))["result"] is True
    await wait_status(srv, hank, "busy")
    assert (await user_doc(srv, ivy))["statusDefault"] == "online"


async def test_set_user_status_with_text(srv, events):
    jane = await create_user(srv, "jane", name="Jane Doe")
    client = await login(srv, jane)
    await wait_status(srv, jane, "online")
    reply = await client.call("setUserStatus", "away", "  At lunch  ")
    assert reply.get("error") is None
    await wait_status(srv, jane, "away", statusText="At lunch", statusDefault="away")
    event = await events.wait_for(lambda e: e["user"]["statusText"] == "At lunch")
    assert event["user"] == {"_id": jane.id, "username": "jane", "status": "away", "statusText": "At lunch",
                             "name": "Jane Doe", "roles": ["user"]}
    assert event["previousStatus"] == "online"


async def test_text_only_change_is_broadcast_and_long_text_is_cut(srv, events):
    kim = await create_user(srv, "kim")
    client = await login(srv, kim)
    await wait_status(srv, kim, "online")
    await client.call("setUserStatus", None, "y" * 500)
    doc = await wait_status(srv, kim, "online", statusText="y" * 120)
    assert doc["statusDefault"] == "online"
    await events.wait_for(lambda e: e["user"]["statusText"] == "y" * 120 and e["previousStatus"] == "online")


async def test_set_user_status_rules(srv):
    leo = await create_user(srv, "leo")
    client = await login(srv, leo)
    reply = await client.call("setUserStatus", "sleeping")
    assert reply["error"]["error"] == "error-invalid-status"
    # Rocket.Chat allows one setUserStatus per second per user.
    reply = await client.call("setUserStatus", "busy")
    assert reply["error"]["error"] == "too-many-requests"
    await asyncio.sleep(1.05)
    reply = await client.call("setUserStatus", {"$ne": None})
    assert reply["error"]["error"] == "error-invalid-params"
    anonymous = await srv.ddp()
    assert (await anonymous.call("setUserStatus", "busy"))["error"]["error"] == 401


async def test_status_message_change_can_be_disabled(start):
    srv = await start(env={"OVERWRITE_SETTING_Accounts_AllowUserStatusMessageChange": "false"})
    mia = await create_user(srv, "mia")
    client = await login(srv, mia)
    reply = await client.call("setUserStatus", "busy", "hello")
    assert reply["error"]["error"] == "error-not-allowed"
    assert (await user_doc(srv, mia)).get("statusText") is None
    # Restating the current (empty) text is not a change: REST users.setStatus sends it along.
    assert await srv.kernel.broker.call("presence.set_status", mia.id, "busy", "") is True
    await wait_status(srv, mia, "busy", statusText="")
