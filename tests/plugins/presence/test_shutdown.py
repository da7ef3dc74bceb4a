"""A server stopping with clients connected: every socket is closed with 1012 (service restart) so clients
reconnect at once, nothing is logged as an error, and presence leaves no connection behind: its users are
offline in the database the server stopped with."""
from __future__ import annotations

import asyncio
import logging

from pymongo import AsyncMongoClient

from apps_sdk.testing.ddp import DdpClient
from tests.plugins.presence.conftest import connections, wait_status
from tests.users import create_user


async def test_stop_closes_sockets_and_leaves_no_connections(start, mongo_url, db_name, caplog):
    srv = await start()
    users = [await create_user(srv, name) for name in ("ann", "ben", "cid")]
    clients = []
    for user in [*users, users[0]]:                    # ann twice
        client = DdpClient(srv.ws_url)                 # not srv.ddp(): stop() would close those itself
        await client.open()
        assert "result" in await client.login(user.token)
        clients.append(client)
    for user in users:
        await wait_status(srv, user, "online")
    assert len(await connections(srv, users[0])) == 2

    caplog.set_level(logging.WARNING)
    caplog.clear()
    await srv.stop()

    async with asyncio.timeout(5):
        codes = [await client.closed for client in clients]
    assert codes == [1012] * 4
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    db = AsyncMongoClient(mongo_url)[db_name]
    try:
        for user in users:
            doc = await db["users"].find_one({"_id": user.id})
            assert (doc["status"], doc["statusConnection"]) == ("offline", "offline")
            session = await db["usersSessions"].find_one({"_id": user.id})
            assert session["connections"] == []
    finally:
        await db.client.close()
        for client in clients:
            await client.close()
