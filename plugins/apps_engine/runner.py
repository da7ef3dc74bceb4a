"""One running app: its supervised sandbox process, what it registered, and the calls the server makes into it.

A call that overruns its deadline makes the sandbox ping the app at once (a spinning app is restarted); a call
that finds the channel broken makes it restart the process. Neither waits in the caller's path: the hook
answer is "no opinion" and the message goes on.
"""
from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apps_sdk import manifest as manifest_mod
from sandbox.host import AppProcess, AppSandbox, Limits, SandboxError
from sandbox.protocol import RpcError
from sandbox.proxy import build_proxy

if TYPE_CHECKING:
    from plugins.apps_engine.service import AppsEngine

log = logging.getLogger("orbitchat.apps_engine")

LIFECYCLE_TIMEOUT = 10.0
# Endpoints, commands, jobs and UIKit handlers may wait on the http accessor: a longer deadline than hooks,
# which sit in the message path.
HANDLER_TIMEOUT = 15.0
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
_COMMAND = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_ENDPOINT = re.compile(r"^[A-Za-z0-9_.~:-]+(/[A-Za-z0-9_.~:-]+)*$")
_SETTING_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_PROCESSOR = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class StartError(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Endpoint:
    def __init__(self, path: str, methods: list[str], auth_required: bool) -> None:
        self.path = path
        self.methods = tuple(methods)
        self.auth_required = auth_required
        parts = [("([^/]+)" if p.startswith(":") else re.escape(p)) for p in path.split("/")]
        self.names = [p[1:] for p in path.split("/") if p.startswith(":")]
        self.regex = re.compile("^" + "/".join(parts) + "$")

    def match(self, path: str) -> dict[str, str] | None:
        m = self.regex.match(path)
        return dict(zip(self.names, m.groups())) if m else None


def clean_registrations(app_id: str, regs: Any, permissions: frozenset[str]) -> dict[str, Any]:
    """What the app process declared is untrusted data: keep only well-formed entries it may register."""
    regs = regs if isinstance(regs, dict) else {}
    out: dict[str, Any] = {"commands": [], "endpoints": [], "settings": [], "processors": []}
    dropped: list[str] = []
    for c in _items(regs.get("commands")):
        name = c.get("command")
        if "slashcommand" in permissions and isinstance(name, str) and _COMMAND.match(name):
            out["commands"].append({"command": name, "description": _text(c.get("description")),
                                    "params": _text(c.get("paramsExample")),
                                    "providesPreview": bool(c.get("providesPreview")),
                                    "permission": c.get("permission") if isinstance(c.get("permission"), str)
                                    else None})
        else:
            dropped.append(f"command {name!r}")
    for e in _items(regs.get("endpoints")):
        path = e.get("path")
        path = path.strip("/") if isinstance(path, str) else None
        methods = [m.upper() for m in e.get("methods") or ["GET"] if isinstance(m, str) and m.upper() in HTTP_METHODS]
        if "api" in permissions and path and len(path) <= 200 and _ENDPOINT.match(path) and methods:
            out["endpoints"].append(Endpoint(path, methods, bool(e.get("authRequired"))))
        else:
            dropped.append(f"endpoint {path!r}")
    for s in _items(regs.get("settings")):
        if isinstance(s.get("id"), str) and _SETTING_ID.match(s["id"]) and isinstance(s.get("type"), str):
            out["settings"].append({"id": s["id"], "type": s["type"][:32], "packageValue": s.get("packageValue"),
                                    "required": bool(s.get("required")), "public": bool(s.get("public")),
                                    "i18nLabel": _text(s.get("i18nLabel")) or s["id"],
                                    "values": s.get("values") if isinstance(s.get("values"), list) else None})
    for p in regs.get("processors") or []:
        if isinstance(p, str) and _PROCESSOR.match(p):
            out["processors"].append(p)
    if dropped:
        log.warning("app %s: ignored registrations (malformed or permission missing): %s", app_id,
                    ", ".join(dropped))
    return out


def _items(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)][:200] if isinstance(value, list) else []


def _text(value: Any, limit: int = 500) -> str:
    return value[:limit] if isinstance(value, str) else ""


class RunningApp:
    def __init__(self, engine: AppsEngine, record: dict[str, Any], package_dir: Path, data_dir: Path,
                 limits: Limits) -> None:
        self.engine = engine
        self.record = record
        self.app_id: str = record["id"]
        self.manifest: dict[str, Any] = record["info"]
        self.hash: str = record.get("packageHash", "")
        self.permissions = manifest_mod.permissions(self.manifest)
        self.hooks: list[str] = []
        self.registrations: dict[str, Any] = clean_registrations(self.app_id, {}, self.permissions)
        self.proxy: Any = None
        self.enabled = False
        self._stage = ""
        self._tasks: set[asyncio.Task] = set()
        self.inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        process = AppProcess(self.app_id, package_dir, data_dir, limits, engine.accessors.handle, engine.logs.sink,
                             permissions=self.permissions)
        self.sandbox = AppSandbox(process, self._on_started, self._on_failed)

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Spawn, construct and initialise; StartError carries the status to record on failure."""
        try:
            await self.sandbox.start()
        except SandboxError as exc:
            await self.sandbox.stop()
            raise StartError("error_disabled", str(exc)) from None
        except Exception as exc:
            await self.sandbox.stop()
            status = "compiler_error_disabled" if self._stage == "construct" else "error_disabled"
            raise StartError(status, f"{self._stage or 'start'} failed: {_describe(exc)}") from None
        self.proxy = build_proxy(self.app_id, self.hooks, self.engine.spec_args(self.hooks), self._proxy_call)

    async def _on_started(self, sandbox: AppSandbox) -> None:
        call = sandbox.process.call
        self._stage = "construct"
        constructed = await call("app:construct", {"manifest": self.manifest}, LIFECYCLE_TIMEOUT)
        implemented = constructed.get("hooks", []) if isinstance(constructed, dict) else []
        declared = set(self.manifest.get("implements", []))
        self.hooks = [h for h in implemented if h in declared and self.engine.spec_args([h])]
        unavailable = sorted(declared - set(self.engine.spec_args(sorted(declared))))
        if unavailable:
            self.engine.logs.add(self.app_id, "warning", "hooks this server does not offer (never called): "
                                 + ", ".join(unavailable), "app:construct")
        undeclared = sorted(set(implemented) - declared)
        if undeclared:
            self.engine.logs.add(self.app_id, "warning", "implemented but not declared in app.json "
                                 f"`implements`, so never called: {', '.join(undeclared)}", "app:construct")
        self._stage = "initialize"
        regs = await call("app:initialize", None, LIFECYCLE_TIMEOUT)
        self.registrations = clean_registrations(self.app_id, regs, self.permissions)
        if self.enabled:   # a restart after a crash: the fresh instance is enabled again
            self._stage = "enable"
            await call("app:onEnable", None, LIFECYCLE_TIMEOUT)
        self._stage = ""

    async def enable(self) -> bool:
        try:
            answer = await self.sandbox.process.call("app:onEnable", None, LIFECYCLE_TIMEOUT)
        except Exception as exc:
            raise StartError("error_disabled", f"onEnable failed: {_describe(exc)}") from None
        self.enabled = answer is not False
        return self.enabled

    async def stop(self, *, notify: str | None = "app:onDisable") -> None:
        """Tell the app (best effort, short deadline) and stop its process."""
        if notify and self.sandbox.process.alive:
            try:
                await self.sandbox.process.call(notify, None, 2.0)
            except Exception as exc:
                log.info("app %s %s: %s", self.app_id, notify, _describe(exc))
        await self.sandbox.stop()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()

    async def _on_failed(self, sandbox: AppSandbox, why: str) -> None:
        # Runs inside the sandbox's own recovery task: hand the clean-up to a task of the engine (it outlives
        # this app's own tasks, which stopping the app cancels).
        self.engine.spawn(self.engine.app_failed(self, why))

    # -- calls into the app ----------------------------------------------------------------------------
    async def call(self, method: str, params: Any = None, timeout: float | None = None) -> Any:
        sandbox = self.sandbox
        seen = sandbox.generation
        self.inflight += 1
        self._idle.clear()
        try:
            return await sandbox.process.call(method, params, timeout)
        except TimeoutError:
            self.engine.logs.add(self.app_id, "warning", f"{method} did not answer in time; treated as no "
                                 "answer", method)
            self._spawn(sandbox.probe_now(seen))
            raise
        except ConnectionError:
            self._spawn(sandbox.check_now(seen))
            raise
        except RpcError as exc:
            self.engine.logs.add(self.app_id, "error", f"{method}: {exc.message}", method)
            raise
        finally:
            self.inflight -= 1
            if not self.inflight:
                self._idle.set()

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for calls in flight, e.g. before a replaced version is stopped."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            pass

    async def _proxy_call(self, hook: str, kwargs: dict[str, Any]) -> Any:
        return await self.engine.fanout.call(self, hook, kwargs)

    async def call_hook(self, hook: str, kwargs: dict[str, Any]) -> Any:
        return await self.call("hook:" + hook, kwargs)

    async def handle(self, method: str, params: Any) -> Any:
        """An endpoint, command, job or interaction handler (the longer deadline)."""
        return await self.call(method, params, max(HANDLER_TIMEOUT, self.sandbox.process.limits.call_timeout))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what it registered -----------------------------------------------------------------------------
    def endpoint(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        for ep in self.registrations["endpoints"]:
            params = ep.match(path)
            if params is not None:
                return ep, params
        return None

    @property
    def commands(self) -> list[dict[str, Any]]:
        return self.registrations["commands"]

    @property
    def processors(self) -> list[str]:
        return self.registrations["processors"]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RpcError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"
