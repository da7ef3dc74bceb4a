"""REST: login, logout, me."""
from __future__ import annotations

from typing import Any

from core.rest import RestRequest, Route
from plugins.accounts import schemas
from plugins.accounts.login import LoginFlow, logout
from plugins.accounts.service import AccountsService
from plugins.accounts.views import me_view


def rest_credentials(body: dict[str, Any]) -> dict[str, Any]:
    """REST login bodies in the DDP `login` form (as Rocket.Chat's `/login` does)."""
    if "resume" in body:
        return {"resume": body["resume"]}
    if "password" in body and any(k in body for k in ("user", "username", "email")):
        if "user" in body:
            who = {"email": body["user"]} if "@" in body["user"] else {"username": body["user"]}
        elif "username" in body:
            who = {"username": body["username"]}
        else:
            who = {"email": body["email"]}
        return {"user": who, "password": body["password"]}
    return {k: v for k, v in body.items() if k != "code"}


class AuthRoutes:
    def __init__(self, service: AccountsService, flow: LoginFlow) -> None:
        self.service = service
        self.flow = flow

    def routes(self) -> list[Route]:
        return [
            Route("POST", "login", self.login, auth=False, body=schemas.LOGIN_BODY),
            Route("POST", "logout", self.logout, body=schemas.LOGOUT_BODY),
            Route("GET", "logout", self.logout),
            Route("GET", "me", self.me),
        ]

    async def login(self, req: RestRequest) -> dict[str, Any]:
        session = await self.flow.login(rest_credentials(req.body), req.ctx)
        raw = session.raw or session.user
        return {"status": "success", "data": {"userId": session.user["_id"], "authToken": session.token,
                                              "me": me_view(raw, self.service.api.public_url)}}

    async def logout(self, req: RestRequest) -> dict[str, Any]:
        await logout(self.flow, req.user, req.ctx.token_hash, req.ctx)
        return {"status": "success", "data": {"message": "You've been logged out!"}}

    async def me(self, req: RestRequest) -> dict[str, Any]:
        raw = await self.service.authenticated_raw(req.user["_id"], req.ctx.token_hash) or dict(req.user)
        return me_view(raw, self.service.api.public_url)
