"""apps_engine fixtures: a real server (accounts, authorization, rooms, messaging, ddp_streamer, apps_engine),
an admin and a user speaking REST, app packages zipped from tests/plugins/apps_engine/apps/."""
from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core import lock as lockfile
from tests.users import TestUser, create_user

APPS = Path(__file__).parent / "apps"
PLUGINS = ("settings", "accounts", "authorization", "rooms", "messaging", "ddp_streamer", "apps_engine")
ENV = {"ORBITCHAT_BCRYPT_ROUNDS": "4", "OVERWRITE_SETTING_Apps_Call_Timeout_Ms": "1000",
       "OVERWRITE_SETTING_Apps_Ping_Interval_Seconds": "2"}


def build_zip(name: str, manifest: dict | None = None, replace: dict[str, str] | None = None,
              extra: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> bytes:
    """Zip a test app; `manifest` overrides app.json keys, `replace` rewrites `old=>new` in app.py."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted((APPS / name).iterdir()):
            if path.name in drop or path.name == "__pycache__":
                continue
            data = path.read_bytes()
            if path.name == "app.json" and manifest is not None:
                data = json.dumps({**json.loads(data), **manifest}).encode()
            if path.name == "app.py" and replace:
                text = data.decode()
                for old, new in replace.items():
                    assert old in text, old
                    text = text.replace(old, new)
                data = text.encode()
            zf.writestr(path.name, data)
        for arc, data in (extra or {}).items():
            zf.writestr(arc, data)
    return buf.getvalue()


@dataclass
class Caller:
    srv: Any
    user: TestUser

    @property
    def id(self) -> str:
        return self.user.id

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return await self.srv.http.request(method, url, headers={**self.user.headers, **kw.pop("headers", {})}, **kw)

    async def ok(self, method: str, path: str, **kw: Any) -> dict:
        r = await self.request(method, path, **kw)
        assert r.status_code == 200, (path, r.status_code, r.text)
        data = r.json()
        assert data["success"] is True, data
        return data

    async def install(self, package: bytes, app_id: str | None = None) -> Any:
        path = f"/api/apps/{app_id}" if app_id else "/api/apps"
        return await self.request("POST", path, files={"app": ("app.zip", package, "application/zip")})

    async def installed(self, package: bytes, app_id: str | None = None) -> dict:
        r = await self.install(package, app_id)
        assert r.status_code == 200, r.text
        return r.json()

    async def send(self, rid: str, text: str) -> Any:
        return await self.request("POST", "chat.sendMessage", json={"message": {"rid": rid, "msg": text}})

    async def status(self, app_id: str, status: str) -> str:
        return (await self.ok("POST", f"/api/apps/{app_id}/status", json={"status": status}))["status"]


@dataclass
class World:
    srv: Any
    admin: Caller
    alice: Caller
    rid: str
    lock_path: Path

    @property
    def engine(self) -> Any:
        return next(p for n, p in self.srv.kernel.selection.plugins if n == "apps_engine").engine

    async def wait_for(self, predicate, timeout: float = 15.0, what: str = "condition") -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)

    async def record(self, app_id: str) -> dict | None:
        return await self.srv.kernel.db["rocketchat_apps"].find_one({"id": app_id})


async def make_world(server_factory: Any, tmp_path: Path, env: dict | None = None, extra_plugins: tuple = (),
                     **config: Any) -> World:
    lock_path = tmp_path / "plugin.lock"
    lockfile.write(lock_path, lockfile.Lock())
    srv = await server_factory(plugins=PLUGINS + tuple(extra_plugins), env={**ENV, **(env or {})},
                               lock_path=lock_path, **config)
    admin = Caller(srv, await create_user(srv, "root", roles=("admin", "user")))
    alice = Caller(srv, await create_user(srv, "alice"))
    room = await admin.ok("POST", "channels.create", json={"name": "general-talk", "members": ["alice"]})
    return World(srv, admin, alice, room["channel"]["_id"], lock_path)


@pytest.fixture
async def world(server_factory, tmp_path):
    return await make_world(server_factory, tmp_path)
