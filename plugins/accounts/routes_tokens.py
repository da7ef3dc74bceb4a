"""REST users.setStatus / getStatus / getPresence (through the presence service when it runs), and tokens:
users.createToken and personal access tokens."""
from __future__ import annotations

import asyncio
from typing import Any

from core.broker import ServiceNotFound
from core.errors import MeteorError
from core.rest import RestRequest, Route
from core.security import hash_token, new_token
from plugins.accounts import schemas
from plugins.accounts.routes_users import UserLookup, not_allowed
from plugins.accounts.service import PAT, AccountsService, now
from plugins.accounts.users import UserStore

NOT_SERVED = (ServiceNotFound, asyncio.TimeoutError)


class StatusTokenRoutes:
    def __init__(self, service: AccountsService, store: UserStore) -> None:
        self.service = service
        self.store = store
        self.lookup = UserLookup(service)

    @property
    def api(self) -> Any:
        return self.service.api

    def routes(self) -> list[Route]:
        return [
            Route("POST", "users.setStatus", self.set_status, body=schemas.SET_STATUS_BODY),
            Route("GET", "users.getStatus", self.get_status, query=schemas.SELF_OR_USER_QUERY),
            Route("GET", "users.getPresence", self.get_presence, query=schemas.SELF_OR_USER_QUERY),
            Route("POST", "users.createToken", self.create_token, permission="user-generate-access-token",
                  body=schemas.TOKEN_SELECTOR_BODY),
            Route("POST", "users.generatePersonalAccessToken", self.generate_pat,
                  permission="create-personal-access-tokens", body=schemas.PAT_CREATE_BODY),
            Route("POST", "users.regeneratePersonalAccessToken", self.regenerate_pat,
                  permission="create-personal-access-tokens", body=schemas.PAT_NAME_BODY),
            Route("POST", "users.removePersonalAccessToken", self.remove_pat,
                  permission="create-personal-access-tokens", body=schemas.PAT_NAME_BODY),
            Route("GET", "users.getPersonalAccessTokens", self.list_pats,
                  permission="create-personal-access-tokens"),
        ]

    # -- status -----------------------------------------------------------------------------------------
    async def set_status(self, req: RestRequest) -> dict[str, Any]:
        body = req.body
        target = await self.lookup.target(req, body)
        if target["_id"] != req.user["_id"] and not await self.api.has_permission(req.user, "edit-other-user-info"):
            raise not_allowed("Not allowed")
        if "message" in body and not self.service.setting("Accounts_AllowUserStatusMessageChange", True):
            raise not_allowed("Changing status message is not allowed")
        status = body.get("status")
        if status == "offline" and not self.service.setting("Accounts_AllowInvisibleStatusOption", True):
            raise MeteorError("error-status-not-allowed", "Invisible status is disabled")
        if status is None and "message" not in body:
            return {}
        text = body.get("message", target.get("statusText"))
        status = status or target.get("statusDefault") or "online"
        try:
            await self.api.broker.call("presence.set_status", target["_id"], status, text)
        except NOT_SERVED:
            await self._set_status_locally(target, status, text)
        return {}

    async def _set_status_locally(self, user: dict[str, Any], status: str, text: str | None) -> None:
        """Without a presence service: record the choice on the user and announce it as presence would."""
        connection = user.get("statusConnection") or "offline"
        effective = "offline" if connection == "offline" else (status if status != "online" else connection)
        updated = await self.store.update(user["_id"], {"statusDefault": status, "status": effective,
                                                        "statusText": text or ""})
        if updated is not None and (effective != user.get("status") or text != user.get("statusText")):
            await self.api.broker.emit("presence.status", {
                "user": {k: updated.get(k) for k in ("_id", "username", "status", "statusText", "name", "roles")},
                "previousStatus": user.get("status")})

    async def _status(self, user: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = await self.api.broker.call("presence.get_status", user["_id"])
        except NOT_SERVED:
            answer = None
        if isinstance(answer, dict):
            return {"status": answer.get("status") or "offline", "statusText": answer.get("statusText"),
                    "connectionStatus": answer.get("connectionStatus") or "offline"}
        fresh = await self.service.get_user(user["_id"]) or user
        return {"status": fresh.get("status") or "offline", "statusText": fresh.get("statusText"),
                "connectionStatus": fresh.get("statusConnection") or "offline"}

    async def get_status(self, req: RestRequest) -> dict[str, Any]:
        user = await self.lookup.target(req, req.query)
        st = await self._status(user)
        out = {"_id": user["_id"], "message": st["statusText"] or "", "status": st["status"]}
        if user["_id"] == req.user["_id"]:
            out["connectionStatus"] = st["connectionStatus"]
        return out

    async def get_presence(self, req: RestRequest) -> dict[str, Any]:
        user = await self.lookup.target(req, req.query)
        st = await self._status(user)
        if user["_id"] != req.user["_id"]:
            return {"presence": st["status"]}
        out: dict[str, Any] = {"presence": st["status"], "connectionStatus": st["connectionStatus"]}
        if user.get("lastLogin"):
            out["lastLogin"] = user["lastLogin"]
        return out

    # -- tokens -----------------------------------------------------------------------------------------
    async def create_token(self, req: RestRequest) -> dict[str, Any]:
        target = await self.lookup.target(req, req.body, raw=True)
        if target.get("active") is False:
            raise MeteorError("error-user-is-not-activated", "User is not activated")
        session = await self.service.issue_token(target, "resume")
        return {"data": {"userId": target["_id"], "authToken": session.token}}

    async def _pats(self, uid: str) -> list[dict[str, Any]]:
        doc = await self.service.coll.find_one({"_id": uid}, {"services.resume.loginTokens": 1})
        tokens = (((doc or {}).get("services") or {}).get("resume") or {}).get("loginTokens") or []
        return [t for t in tokens if t.get("type") == PAT]

    async def _store_pat(self, uid: str, name: str, bypass: bool) -> str:
        token = new_token()
        ts = now()
        entry = {"hashedToken": hash_token(token), "type": PAT, "createdAt": ts, "when": ts,
                 "lastTokenPart": token[-6:], "name": name, "bypassTwoFactor": bypass}
        await self.service.coll.update_one({"_id": uid}, {"$push": {"services.resume.loginTokens": entry}})
        return token

    async def generate_pat(self, req: RestRequest) -> dict[str, Any]:
        uid, name = req.user["_id"], req.body["tokenName"]
        if any(t.get("name") == name for t in await self._pats(uid)):
            raise MeteorError("error-token-already-exists", "A token with this name already exists")
        return {"token": await self._store_pat(uid, name, bool(req.body.get("bypassTwoFactor")))}

    async def regenerate_pat(self, req: RestRequest) -> dict[str, Any]:
        uid, name = req.user["_id"], req.body["tokenName"]
        old = next((t for t in await self._pats(uid) if t.get("name") == name), None)
        if old is None:
            raise MeteorError("error-token-does-not-exists", "Token does not exist")
        await self._remove_pat(uid, old)
        return {"token": await self._store_pat(uid, name, bool(old.get("bypassTwoFactor")))}

    async def _remove_pat(self, uid: str, entry: dict[str, Any]) -> None:
        await self.service.revoke_token(uid, entry["hashedToken"])
        await self.api.broker.emit("user.forceLogout", {"userId": uid, "tokenHashes": [entry["hashedToken"]]})

    async def remove_pat(self, req: RestRequest) -> dict[str, Any]:
        uid, name = req.user["_id"], req.body["tokenName"]
        old = next((t for t in await self._pats(uid) if t.get("name") == name), None)
        if old is None:
            raise MeteorError("error-token-does-not-exists", "Token does not exist")
        await self._remove_pat(uid, old)
        return {}

    async def list_pats(self, req: RestRequest) -> dict[str, Any]:
        tokens = [{"name": t.get("name"), "createdAt": t.get("createdAt") or t.get("when"),
                   "lastTokenPart": t.get("lastTokenPart"), "bypassTwoFactor": bool(t.get("bypassTwoFactor"))}
                  for t in await self._pats(req.user["_id"])]
        return {"tokens": tokens}


