"""Slash commands: one registry for commands from apps (and, through `register`, from core plugins), and the
`commands.*` REST routes that list, run and preview them."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from core.ddp import DdpMethod, MethodInvocation
from core.errors import ApiError, Forbidden, MeteorError
from core.rest import RestRequest, Route

log = logging.getLogger("orbitchat.apps_engine")

_STR = {"type": "string", "maxLength": 5000}
_ID = {"type": "string", "minLength": 1, "maxLength": 64}
_CMD = {"type": "string", "minLength": 1, "maxLength": 64}


class Provider(Protocol):
    async def execute(self, command: str, context: dict[str, Any]) -> Any: ...
    async def preview(self, command: str, context: dict[str, Any]) -> Any: ...
    async def preview_item(self, command: str, context: dict[str, Any], item: dict[str, Any]) -> Any: ...


@dataclass
class Command:
    command: str
    provider: Provider
    description: str = ""
    params: str = ""
    provides_preview: bool = False
    permission: str | None = None
    app_id: str | None = None

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command, "params": self.params, "description": self.description,
                               "clientOnly": False, "providesPreview": self.provides_preview}
        if self.app_id:
            out["appId"] = self.app_id
        if self.permission:
            out["permission"] = self.permission
        return out


class AppCommandProvider:
    """A slash command served by an app process."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def execute(self, command: str, context: dict) -> Any:
        return await self.app.handle(f"command:{command}:execute", context)

    async def preview(self, command: str, context: dict) -> Any:
        return await self.app.handle(f"command:{command}:preview", context)

    async def preview_item(self, command: str, context: dict, item: dict) -> Any:
        return await self.app.handle(f"command:{command}:previewItem", {**context, "item": item})


class PluginProvider:
    """A command a core plugin contributes through `register_slash_commands`: a dict with `command`,
    `execute(context)` and optionally `description`, `params`, `permission`, `preview(context)`,
    `preview_item(context, item)` (async callables; `context` as an app receives it)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    async def execute(self, command: str, context: dict[str, Any]) -> Any:
        return await self.spec["execute"](context)

    async def preview(self, command: str, context: dict[str, Any]) -> Any:
        return await self.spec["preview"](context)

    async def preview_item(self, command: str, context: dict[str, Any], item: dict[str, Any]) -> Any:
        return await self.spec["preview_item"](context, item)

    @classmethod
    def command(cls, spec: Any) -> Command | None:
        if not (isinstance(spec, dict) and isinstance(spec.get("command"), str) and callable(spec.get("execute"))):
            log.warning("ignored a malformed slash command declaration: %r", spec)
            return None
        return Command(spec["command"].lower(), cls(spec), str(spec.get("description", "")),
                       str(spec.get("params", "")), callable(spec.get("preview")), spec.get("permission"))


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(self, cmd: Command) -> bool:
        """Add a command; False (and a log line) when another provider already owns the name."""
        current = self._commands.get(cmd.command)
        if current is not None and current.app_id != cmd.app_id:
            log.warning("slash command /%s of %s ignored: already provided by %s", cmd.command,
                        cmd.app_id or "a core plugin", current.app_id or "a core plugin")
            return False
        self._commands[cmd.command] = cmd
        return True

    def unregister_app(self, app_id: str) -> list[str]:
        gone = [name for name, c in self._commands.items() if c.app_id == app_id]
        for name in gone:
            del self._commands[name]
        return gone

    def get(self, command: str) -> Command | None:
        return self._commands.get(command)

    def all(self) -> list[Command]:
        return sorted(self._commands.values(), key=lambda c: c.command)


class CommandRoutes:
    """REST for the registry. `room_for` checks the caller may use the room and returns it."""

    def __init__(self, registry: CommandRegistry, room_for: Callable[[dict, str], Awaitable[dict]],
                 has_permission: Callable[..., Awaitable[bool]]) -> None:
        self.registry = registry
        self.room_for = room_for
        self.has_permission = has_permission

    def routes(self) -> list[Route]:
        run_body = {"type": "object", "additionalProperties": False, "required": ["command", "roomId"],
                    "properties": {"command": _CMD, "params": _STR, "roomId": _ID, "tmid": _ID, "triggerId": _ID}}
        preview_query = {"type": "object", "additionalProperties": False, "required": ["command", "roomId"],
                         "properties": {"command": _CMD, "params": _STR, "roomId": _ID}}
        item = {"type": "object", "additionalProperties": False, "required": ["id", "type", "value"],
                "properties": {"id": {"type": "string", "maxLength": 200},
                               "type": {"enum": ["image", "video", "audio", "text", "other"]},
                               "value": {"type": "string", "maxLength": 5000}}}
        preview_body = {"type": "object", "additionalProperties": False,
                        "required": ["command", "roomId", "previewItem"],
                        "properties": {"command": _CMD, "params": _STR, "roomId": _ID, "previewItem": item,
                                       "tmid": _ID, "triggerId": _ID}}
        return [
            Route("GET", "commands.list", self.list, paginated=True, filter_fields=("command",),
                  sort_fields=("command",)),
            Route("GET", "commands.get", self.get, query={
                "type": "object", "additionalProperties": False, "required": ["command"],
                "properties": {"command": _CMD}}),
            Route("POST", "commands.run", self.run, body=run_body),
            Route("GET", "commands.preview", self.preview, query=preview_query),
            Route("POST", "commands.preview", self.preview_run, body=preview_body),
        ]

    async def list(self, req: RestRequest) -> dict:
        page = req.page
        items = [c.view() for c in self.registry.all()]
        wanted = page.filter.get("command")
        if isinstance(wanted, dict):
            items = [c for c in items if c["command"] in wanted["$in"]]
        elif wanted is not None:
            items = [c for c in items if c["command"] == wanted]
        if page.sort and page.sort[0][1] == -1:
            items.reverse()
        shown = page.slice(items)
        return {"commands": shown, "appsLoaded": True, "count": len(shown), "offset": page.offset,
                "total": len(items)}

    def _find(self, name: str) -> Command:
        cmd = self.registry.get(name.lstrip("/").lower())
        if cmd is None:
            raise ApiError(f"There is no command in the system by the name of: {name}")
        return cmd

    async def get(self, req: RestRequest) -> dict:
        return {"command": self._find(req.query["command"]).view()}

    async def _context(self, user: Any, source: dict) -> tuple[Command, dict[str, Any]]:
        cmd = self._find(source["command"])
        room = await self.room_for(user, source["roomId"])
        if cmd.permission and not await self.has_permission(user, cmd.permission, room["_id"]):
            raise Forbidden()
        params = source.get("params") or ""
        sender = {k: user.get(k) for k in ("_id", "username", "name", "roles", "type")}
        return cmd, {"sender": sender, "room": room, "args": params.split(), "params": params,
                     "threadId": source.get("tmid"), "triggerId": source.get("triggerId")}

    def methods(self) -> list[DdpMethod]:
        """DDP `slashCommand`: what Rocket.Chat clients call when a composed message starts with `/`."""
        call = {"type": "object", "required": ["cmd", "msg"], "properties": {
            "cmd": _CMD, "params": _STR, "triggerId": _ID,
            "msg": {"type": "object", "required": ["rid"], "properties": {"rid": _ID, "tmid": _ID, "_id": _ID,
                                                                           "msg": {"type": "string"}}}}}
        return [DdpMethod("slashCommand", self._ddp_run, rate_limit=(10, 1000),
                          params={"type": "array", "prefixItems": [call], "minItems": 1, "maxItems": 1})]

    async def _ddp_run(self, inv: MethodInvocation, call: dict) -> Any:
        source = {"command": call["cmd"], "params": call.get("params") or "", "roomId": call["msg"]["rid"],
                  "tmid": call["msg"].get("tmid"), "triggerId": call.get("triggerId")}
        cmd, context = await self._context(inv.ctx.user, source)
        return await _guard(cmd.provider.execute(cmd.command, context))

    async def run(self, req: RestRequest) -> dict:
        cmd, context = await self._context(req.user, req.body)
        result = await _guard(cmd.provider.execute(cmd.command, context))
        return {"result": result} if result is not None else {}

    async def preview(self, req: RestRequest) -> dict:
        cmd, context = await self._context(req.user, req.query)
        if not cmd.provides_preview:
            raise ApiError("The command does not provide previews")
        preview = await _guard(cmd.provider.preview(cmd.command, context))
        if isinstance(preview, list):
            preview = {"i18nTitle": cmd.command, "items": preview}
        return {"preview": preview if isinstance(preview, dict) else {"i18nTitle": cmd.command, "items": []}}

    async def preview_run(self, req: RestRequest) -> dict:
        cmd, context = await self._context(req.user, req.body)
        if not cmd.provides_preview:
            raise ApiError("The command does not provide previews")
        await _guard(cmd.provider.preview_item(cmd.command, context, req.body["previewItem"]))
        return {}


async def _guard(awaitable: Awaitable[Any]) -> Any:
    """A provider's failure is the command's failure, reported without internals."""
    try:
        return await awaitable
    except ApiError:
        raise
    except Exception as exc:
        log.info("slash command failed: %s", exc)
        raise MeteorError("error-app-command-failed", "The command failed to run") from None
