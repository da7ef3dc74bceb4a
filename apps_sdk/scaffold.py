"""`orbitchat app new`: a working app to start from (manifest, app class, a test using the SDK's fixtures)."""
from __future__ import annotations

import getpass
import json
import re
import uuid
from pathlib import Path

from apps_sdk import manifest as manifest_mod

APP_PY = '''"""{name}: {description}"""
from __future__ import annotations

from apps_sdk import App, CommandContext, Configuration, SlashCommand


class {class_name}(App):
    def extend_configuration(self, config: Configuration) -> None:
        config.slash_command(SlashCommand("{command}", self.greet, description="Say hello",
                                          params_example="[name]"))

    async def greet(self, ctx: CommandContext) -> None:
        greeting = await self.settings.get("greeting")
        who = " ".join(ctx.args) or ctx.sender["username"]
        await self.modifier.send_message(ctx.room["_id"], f"{{greeting}}, {{who}}!")
'''

TEST_PY = '''"""{name} against a real OrbitChat: the `orbit` fixture comes from apps_sdk.testing (run `pytest`)."""
from __future__ import annotations

from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.asyncio


async def test_the_command_greets_the_room(orbit):
    app = await orbit.install_app(APP_DIR)
    rid = (await orbit.create_channel("lobby", members=[orbit.user.username]))["_id"]
    ws = await orbit.ddp()                      # a websocket client, logged in as orbit.user
    await ws.subscribe("stream-room-messages", rid)

    await orbit.run_command("{command}", rid, "world")
    [message] = await ws.next_event("stream-room-messages", rid)
    assert message["msg"] == "Hello, world!"

    await app.set_settings({{"greeting": "Hi"}})
    await orbit.run_command("{command}", rid)
    [message] = await ws.next_event("stream-room-messages", rid)
    assert message["msg"] == f"Hi, {{orbit.user.username}}!"
'''

README = '''# {name}

An OrbitChat app. `/{command} [name]` greets the room.

    pip install "orbitchat[test]"
    pytest                                   # tests against a real in-process OrbitChat
    orbitchat app package .                  # dist/{slug}_0.1.0.zip
    orbitchat app deploy . --url http://localhost:3000 --user admin --password ...
    orbitchat app watch . --url ...          # redeploy on every change
    orbitchat app logs {app_id} --follow --url ...

The pytest fixtures load through orbitchat's `pytest11` entry point; with plugin autoloading off, add
`pytest_plugins = ["apps_sdk.testing"]` to a root conftest.py.
'''


PYPROJECT = '''# Development settings only: an app package holds app.json, app.py and its other source files.
[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
testpaths = ["tests"]
'''


class ScaffoldError(Exception):
    pass


def class_name(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    base = "".join(w[:1].upper() + w[1:] for w in words) or "My"
    return ("App" + base if base[0].isdigit() else base) + ("" if base.endswith("App") else "App")


def manifest_for(name: str, author: str | None = None) -> dict:
    slug = manifest_mod.slugify(name)
    return {
        "id": str(uuid.uuid4()), "name": name, "nameSlug": slug, "version": "0.1.0",
        "requiredApiVersion": f"^{manifest_mod.API_VERSION}", "description": "Greets the room with a slash command.",
        "author": {"name": author or getpass.getuser()}, "classFile": "app.py",
        "permissions": [{"name": "slashcommand"}, {"name": "message.write"}], "implements": [],
        "settings": [{"id": "greeting", "type": "string", "packageValue": "Hello", "i18nLabel": "Greeting"}],
    }


def new_app(target: Path, name: str | None = None, author: str | None = None) -> dict:
    """Write a new app into `target` (which must be missing or empty); returns its manifest."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} exists and is not an empty directory")
    name = name or " ".join(w.capitalize() for w in re.split(r"[-_\s]+", target.resolve().name) if w) or "My App"
    manifest = manifest_for(name, author)
    manifest_mod.validate(manifest)
    fields = {"name": name, "description": manifest["description"], "class_name": class_name(name),
              "command": manifest["nameSlug"], "slug": manifest["nameSlug"], "app_id": manifest["id"]}
    (target / "tests").mkdir(parents=True, exist_ok=True)
    (target / "app.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (target / "app.py").write_text(APP_PY.format(**fields))
    (target / "tests" / "test_app.py").write_text(TEST_PY.format(**fields))
    (target / "README.md").write_text(README.format(**fields))
    (target / "pyproject.toml").write_text(PYPROJECT)
    (target / ".gitignore").write_text("dist/\n__pycache__/\n")
    return manifest
