"""`Orbit`: a real in-process OrbitChat for an app's tests: REST clients for an admin and a user, app install
through `/api/apps`, rooms, messages, slash commands, UIKit interactions, a DDP client and `wait_for`."""
from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from apps_sdk import packaging
from apps_sdk.testing.server import RunningServer
from apps_sdk.testing.users import TestUser, create_user

if TYPE_CHECKING:
    from apps_sdk.testing.ddp import DdpClient

STANDARD_PLUGINS = ("settings", "accounts", "authorization", "presence", "rooms", "messaging", "ddp_streamer",
                    "apps_engine", "uikit_core")
ENABLED = ("manually_enabled", "auto_enabled")


class Client:
    """One user speaking REST: an httpx client carrying the user's `X-User-Id` / `X-Auth-Token` headers.
    Paths without a leading `/` are REST API v1 methods (`"chat.sendMessage"` → `/api/v1/chat.sendMessage`)."""

    def __init__(self, server: RunningServer, user: TestUser) -> None:
        self.user = user
        self.http = httpx.AsyncClient(base_url=server.base_url, headers=user.headers, timeout=30)

    id = property(lambda self: self.user.id)
    username = property(lambda self: self.user.username)
    token = property(lambda self: self.user.token)
    password = property(lambda self: self.user.password)
    headers = property(lambda self: self.user.headers)

    @staticmethod
    def url(path: str) -> str:
        return path if path.startswith("/") or "://" in path else f"/api/v1/{path}"

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.http.request(method, self.url(path), **kw)

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.request("POST", path, **kw)

    async def ok(self, method: str, path: str, **kw: Any) -> dict:
        """The JSON answer of a request that must succeed (AssertionError with the body otherwise)."""
        r = await self.request(method, path, **kw)
        assert r.status_code == 200, f"{method} {path}: HTTP {r.status_code} {r.text}"
        data = r.json()
        assert data.get("success") is True, f"{method} {path}: {data}"
        return data

    async def aclose(self) -> None:
        await self.http.aclose()


class AppHandle:
    """An installed app, managed through the admin's REST client."""

    def __init__(self, orbit: Orbit, app: dict[str, Any]) -> None:
        self.orbit = orbit
        self.app = app

    @property
    def id(self) -> str:
        return self.app["id"]

    @property
    def status(self) -> str:
        return self.app["status"]

    async def refresh(self) -> dict[str, Any]:
        self.app = (await self.orbit.admin.ok("GET", f"/api/apps/{self.id}"))["app"]
        return self.app

    async def set_settings(self, values: dict[str, Any]) -> list[dict]:
        """Set the app's own settings (`{setting_id: value}`), as an admin does in the app's page."""
        body = {"settings": [{"id": k, "value": v} for k, v in values.items()]}
        return (await self.orbit.admin.ok("POST", f"/api/apps/{self.id}/settings", json=body))["updated"]

    async def set_status(self, status: str) -> str:
        return (await self.orbit.admin.ok("POST", f"/api/apps/{self.id}/status", json={"status": status}))["status"]

    async def update(self, source: Path | str | bytes) -> AppHandle:
        self.app = await self.orbit._upload(source, self.id)
        return self

    async def uninstall(self) -> None:
        await self.orbit.admin.ok("DELETE", f"/api/apps/{self.id}")

    async def logs(self) -> list[str]:
        """The app's log lines, oldest first, as `"<severity> <method>: <text>"` (written about once a second)."""
        docs = (await self.orbit.admin.ok("GET", f"/api/apps/{self.id}/logs", params={"count": 100}))["logs"]
        return [f"{e['severity']} {d['method']}: {' '.join(str(a) for a in e.get('args', []))}"
                for d in reversed(docs) for e in d.get("entries", [])]

    def endpoint_url(self, path: str) -> str:
        return f"/api/apps/public/{self.id}/{path.lstrip('/')}"

    async def call_endpoint(self, method: str, path: str, *, by: Client | None = None, **kw: Any) -> httpx.Response:
        """Call one of the app's public endpoints, anonymously or as `by`."""
        http = by.http if by is not None else self.orbit.server.http
        return await http.request(method, self.endpoint_url(path), **kw)


class Orbit:
    """What an app's test talks to. `admin` (root: roles admin, user) and `user` (alice) are REST clients."""

    def __init__(self, server: RunningServer, admin: Client, user: Client) -> None:
        self.server = server
        self.admin = admin
        self.user = user
        self._clients = [admin, user]

    @classmethod
    async def create(cls, server: RunningServer) -> Orbit:
        admin = Client(server, await create_user(server, "root", roles=("admin", "user")))
        user = Client(server, await create_user(server, "alice"))
        return cls(server, admin, user)

    @property
    def db(self) -> Any:
        """The server's database (pymongo async), for checks a client cannot make."""
        return self.server.kernel.db

    @property
    def base_url(self) -> str:
        return self.server.base_url

    async def create_user(self, username: str, roles: tuple[str, ...] = ("user",),
                          password: str = "secret-pass") -> Client:
        client = Client(self.server, await create_user(self.server, username, roles, password))
        self._clients.append(client)
        return client

    async def set_setting(self, setting_id: str, value: Any) -> None:
        """Change a server setting as the admin (e.g. `Apps_Allow_Private_Network`)."""
        await self.admin.ok("POST", f"settings/{setting_id}", json={"value": value})

    # -- apps ---------------------------------------------------------------------------------------------
    async def install_app(self, source: Path | str | bytes, *, settings: dict[str, Any] | None = None) -> AppHandle:
        """Package an app directory (or take a zip's path or bytes) and install it over REST as the admin.
        AssertionError, with the app's logs, when the server refuses it or the app does not start."""
        app = AppHandle(self, await self._upload(source, None))
        if settings:
            await app.set_settings(settings)
        return app

    async def _upload(self, source: Path | str | bytes, app_id: str | None) -> dict[str, Any]:
        if isinstance(source, bytes):
            data = source
        elif Path(source).is_dir():
            data = packaging.build(Path(source)).data
        else:
            data = Path(source).read_bytes()
        path = f"/api/apps/{app_id}" if app_id else "/api/apps"
        r = await self.admin.post(path, files={"app": ("app.zip", data, "application/zip")})
        assert r.status_code == 200, f"the server refused the app: HTTP {r.status_code} {r.text}"
        app = r.json()["app"]
        if app["status"] not in ENABLED:
            await asyncio.sleep(1.2)   # app logs are written once a second
            logs = await AppHandle(self, app).logs()
            raise AssertionError(f"app {app['id']} did not start (status {app['status']}):\n" + "\n".join(logs))
        return app

    # -- rooms, messages, commands, interactions -------------------------------------------------------
    async def create_channel(self, name: str, members: tuple[str, ...] | list[str] = (), *,
                             by: Client | None = None, private: bool = False) -> dict[str, Any]:
        """Create a channel (or a private group) and return the room; members are usernames."""
        kind = "groups" if private else "channels"
        data = await (by or self.admin).ok("POST", f"{kind}.create", json={"name": name, "members": list(members)})
        return data["group" if private else "channel"]

    async def send_message(self, rid: str, text: str, *, by: Client | None = None, check: bool = True,
                           **fields: Any) -> Any:
        """Send as `by` (default: the user) through `chat.sendMessage`; the stored message, or with
        `check=False` the raw response (to see a refusal)."""
        r = await (by or self.user).post("chat.sendMessage", json={"message": {"rid": rid, "msg": text, **fields}})
        if not check:
            return r
        assert r.status_code == 200, f"message refused: HTTP {r.status_code} {r.text}"
        return r.json()["message"]

    async def history(self, rid: str, *, by: Client | None = None, count: int = 50,
                      private: bool = False) -> list[dict[str, Any]]:
        """The room's latest messages, newest first."""
        kind = "groups" if private else "channels"
        data = await (by or self.user).ok("GET", f"{kind}.history", params={"roomId": rid, "count": count})
        return data["messages"]

    async def run_command(self, command: str, rid: str, params: str = "", *, by: Client | None = None,
                          check: bool = True, trigger_id: str | None = None) -> Any:
        """Run a slash command (`commands.run`) as `by` (default: the user)."""
        body = {"command": command.lstrip("/"), "roomId": rid, "params": params}
        if trigger_id:
            body["triggerId"] = trigger_id
        r = await (by or self.user).post("commands.run", json=body)
        if not check:
            return r
        assert r.status_code == 200, f"/{command} failed: HTTP {r.status_code} {r.text}"
        return r.json()

    async def interact(self, app_id: str, interaction: dict[str, Any], *, by: Client | None = None) -> dict:
        """Send a UIKit interaction (`blockAction`, `viewSubmit`, ...) as a client does; the app's answer
        (`success` is false when the app answers with errors, e.g. a view's field errors)."""
        r = await (by or self.user).post(f"/api/apps/ui.interaction/{app_id}", json=interaction)
        assert r.status_code == 200, f"interaction refused: HTTP {r.status_code} {r.text}"
        return r.json()

    # -- realtime and waiting ----------------------------------------------------------------------------
    async def ddp(self, by: Client | None = None, *, login: bool = True) -> DdpClient:
        """A websocket DDP client, logged in as `by` (default: the user) unless `login=False`."""
        client = await self.server.ddp()
        if login:
            who = by or self.user
            reply = await client.login(who.token)
            assert (reply.get("result") or {}).get("id") == who.id, f"DDP login failed: {reply}"
        return client

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
                       what: str | None = None) -> Any:
        """Poll `predicate` (sync or async) until it returns something truthy; return that value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if loop.time() > deadline:
                name = what or getattr(predicate, "__name__", "condition")
                raise AssertionError(f"timed out after {timeout}s waiting for {name} (last value {value!r})")
            await asyncio.sleep(interval)

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
