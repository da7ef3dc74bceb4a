"""Connections over real websockets: logging in records a connection, closing the socket removes it."""
import asyncio

from tests.plugins.presence.conftest import (
    connections,
    create_user,
    login,
    presence_plugin,
    user_doc,
    wait_status,
)


async def test_login_over_ddp_goes_online_and_close_goes_offline(srv):
    alice = await create_user(srv, "alice")
    client = await login(srv, alice)
    doc = await wait_status(srv, alice, "online", statusConnection="online")
    assert doc["statusDefault"] == "online"
    [conn] = await connections(srv, alice)
    assert conn["id"] == client.session
    assert conn["status"] == "online"
    assert conn["instanceId"] == presence_plugin(srv).service.instance_id
    assert conn["_createdAt"] == conn["_updatedAt"]

    await client.close()
    await wait_status(srv, alice, "offline", statusConnection="offline")
    assert await connections(srv, alice) == []


async def test_two_connections_one_closes_still_online(srv):
    bob = await create_user(srv, "bob")
    first = await login(srv, bob)
    second = await login(srv, bob)
    await wait_status(srv, bob, "online")
    assert {c["id"] for c in await connections(srv, bob)} == {first.session, second.session}

    await first.close()
    for _ in range(100):
        if len(await connections(srv, bob)) == 1:
            break
        await asyncio.sleep(0.05)
    assert [c["id"] for c in await connections(srv, bob)] == [second.session]
    assert (await user_doc(srv, bob))["status"] == "online"

    await second.close()
    await wait_status(srv, bob, "offline")


async def test_anonymous_socket_records_nothing(srv):
    carol = await create_user(srv, "carol")
    client = await srv.ddp()
    reply = await client.call("UserPresence:online")
    assert reply.get("error") is None and "result" not in reply
    await client.close()
    assert await connections(srv, carol) == []
    assert (await user_doc(srv, carol))["status"] == "offline"


async def test_login_event_for_a_socket_of_another_process_is_ignored(srv):
    dave = await create_user(srv, "dave")
    await srv.kernel.broker.emit("accounts.login", {"userId": dave.id, "connectionId": "not-a-local-socket"})
    await srv.kernel.broker.emit("accounts.login", {"userId": dave.id})   # a REST login
    assert await connections(srv, dave) == []
    assert (await user_doc(srv, dave))["status"] == "offline"


async def test_logout_event_removes_the_connection(srv):
    erin = await create_user(srv, "erin")
    client = await login(srv, erin)
    await wait_status(srv, erin, "online")
    await srv.kernel.broker.emit("accounts.logout", {"userId": erin.id, "connectionId": client.session,
                                                     "tokenHash": "x"})
    await wait_status(srv, erin, "offline")
    assert await connections(srv, erin) == []


async def test_same_socket_logging_in_as_another_user_moves_the_connection(srv):
    frank = await create_user(srv, "frank")
    gina = await create_user(srv, "gina")
    client = await login(srv, frank)
    await wait_status(srv, frank, "online")
    assert "result" in await client.login(gina.token)
    await wait_status(srv, gina, "online")
    await wait_status(srv, frank, "offline")
    assert [c["id"] for c in await connections(srv, gina)] == [client.session]
    assert await connections(srv, frank) == []


async def test_deleted_user_loses_its_sessions_document(srv):
    hank = await create_user(srv, "hank")
    await login(srv, hank)
    await wait_status(srv, hank, "online")
    await srv.kernel.broker.emit("user.deleted", {"userId": hank.id})
    assert await srv.kernel.db["usersSessions"].find_one({"_id": hank.id}) is None
