"""DDP: `login` (password digest or plain, resume token, plugin-authenticated credentials) and `logout`.

After a login the connection is authenticated, `accounts.login` is broadcast and the user's own document is
published on collection `users` (Meteor does this; the official DDP client reads its username there).
After `logout` the result is delivered and the socket is closed with 1002, as ddp-streamer does.
"""
from __future__ import annotations

import asyncio
from typing import Any

from core.ddp import DdpConnection, DdpMethod, MethodInvocation
from plugins.accounts import schemas
from plugins.accounts.login import LoginFlow, logout
from plugins.accounts.views import ddp_fields

CLOSE_LOGGED_OUT = 1002


class AuthMethods:
    def __init__(self, flow: LoginFlow) -> None:
        self.flow = flow
        self._closers: set[asyncio.Task] = set()

    def methods(self) -> list[DdpMethod]:
        return [
            DdpMethod("login", self.login, auth=False, params=schemas.DDP_LOGIN_PARAMS),
            DdpMethod("logout", self.logout, auth=False, params=schemas.NO_PARAMS),
        ]

    async def login(self, inv: MethodInvocation, credentials: dict[str, Any]) -> dict[str, Any]:
        conn = inv.connection
        previous = conn.user_id
        session = await self.flow.login(credentials, inv.ctx)
        uid = session.user["_id"]
        inv.set_user(session.user, session.token_hash)
        if previous and previous != uid:
            conn.send({"msg": "removed", "collection": "users", "id": previous})
        raw = session.raw or session.user
        conn.send({"msg": "added", "collection": "users", "id": uid, "fields": ddp_fields(raw)})
        await self.flow.api.broker.emit("accounts.login", {"userId": uid, "connectionId": conn.id})
        return {"id": uid, "token": session.token, "tokenExpires": session.expires, "type": session.type}

    async def logout(self, inv: MethodInvocation) -> None:
        conn = inv.connection
        user = conn.user
        if user is None:
            return
        await logout(self.flow, user, conn.token_hash, inv.ctx, connection_id=conn.id)
        inv.set_user(None)
        conn.send({"msg": "removed", "collection": "users", "id": user["_id"]})
        task = asyncio.get_running_loop().create_task(self._close_after_reply(conn))
        self._closers.add(task)
        task.add_done_callback(self._closers.discard)
        return

    @staticmethod
    async def _close_after_reply(conn: DdpConnection) -> None:
        """Close with 1002 once this method's `result`/`updated` are queued (the gateway queues them as soon
        as the handler returns, before this task first runs); `drain` sends them before closing."""
        await asyncio.sleep(0)
        conn.close(CLOSE_LOGGED_OUT, drain=True)
