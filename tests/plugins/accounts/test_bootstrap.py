"""First start: the admin account (from the environment or with a printed password) and rocket.cat."""
from __future__ import annotations

import re


async def test_generated_admin_password_is_printed_once(server_factory, capsys):
    srv = await server_factory(plugins=("settings", "accounts"))
    out = capsys.readouterr().out
    m = re.search(r"OrbitChat admin account: admin / (\S+) \(change it after first login\)", out)
    assert m, out
    password = m.group(1)
    assert len(password) >= 16
    r = await srv.http.post("/api/v1/login", json={"username": "admin", "password": password})
    assert r.status_code == 200, r.text
    assert "admin" in r.json()["data"]["me"]["roles"]
    await srv.stop()
    again = await server_factory(plugins=("settings", "accounts"))
    assert "OrbitChat admin account" not in capsys.readouterr().out
    assert await again.kernel.db["users"].count_documents({"roles": "admin"}) == 1


async def test_admin_from_environment_and_rocket_cat(server_factory, capsys):
    env = {"ORBITCHAT_ADMIN_USER": "root", "ORBITCHAT_ADMIN_PASSWORD": "s3cret-Admin"}
    srv = await server_factory(plugins=("settings", "accounts"), env=env)
    out = capsys.readouterr().out
    assert "OrbitChat admin account: root (password from ORBITCHAT_ADMIN_PASSWORD)" in out
    assert "s3cret-Admin" not in out
    r = await srv.http.post("/api/v1/login", json={"user": "root", "password": "s3cret-Admin"})
    assert r.status_code == 200
    cat = await srv.kernel.db["users"].find_one({"_id": "rocket.cat"})
    assert cat["username"] == "rocket.cat" and cat["type"] == "bot" and cat["roles"] == ["bot"]
