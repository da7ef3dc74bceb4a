"""AppsEngine: the apps running in this process, their proxies in the plugin manager, and keeping this
process's set equal to what the database says (at start-up and whenever another process changes it)."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from apps_sdk import manifest as manifest_mod
from core.context import random_id
from plugins.apps_engine import package as pkg
from plugins.apps_engine.accessors import Accessors
from plugins.apps_engine.commands import AppCommandProvider, Command, CommandRegistry, PluginProvider
from plugins.apps_engine.conf import EngineConf
from plugins.apps_engine.fanout import PreventFanOut
from plugins.apps_engine.files import AppFiles
from plugins.apps_engine.logbuf import AppLogs
from plugins.apps_engine.netguard import HttpClient
from plugins.apps_engine.runner import RunningApp, StartError
from plugins.apps_engine.scheduler import JobScheduler
from plugins.apps_engine.store import AppStore, LockWriter, is_enabled, now

log = logging.getLogger("orbitchat.apps_engine")

APP_EVENTS = ("apps.added", "apps.removed", "apps.updated", "apps.statusUpdate", "apps.settingUpdated")
START_CONCURRENCY = 4


class AppsEngine:
    def __init__(self) -> None:
        self.api: Any = None
        self.conf: EngineConf = None  # type: ignore[assignment]
        self.store: AppStore = None  # type: ignore[assignment]
        self.logs: AppLogs = None  # type: ignore[assignment]
        self.http: HttpClient = None  # type: ignore[assignment]
        self.lock_writer = LockWriter(None)
        self.running: dict[str, RunningApp] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.commands = CommandRegistry()
        self.accessors = Accessors(self)
        self.scheduler = JobScheduler(self)
        self.fanout = PreventFanOut()
        self.instance_id = random_id()
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._registered: list[str] = []
        self._spec_args: dict[str, list[str] | None] = {}
        self._bots: dict[str, dict[str, Any]] = {}
        self._unsubscribe: list[Any] = []
        self._tasks: set[asyncio.Task] = set()

    # -- start and stop ----------------------------------------------------------------------------------
    async def start(self, api: Any) -> None:
        self.api = api
        self.conf = EngineConf(api.settings)
        self.store = AppStore(api.db)
        await self.store.ensure_indexes()
        self.logs = AppLogs(self.store, self.instance_id)
        self.logs.start()
        self.http = HttpClient(lambda: self.conf.allow_private)
        self.lock_writer = LockWriter(getattr(api, "lock_path", None))
        for event in APP_EVENTS:
            self._unsubscribe.append(await api.broker.subscribe(event, self._on_event))
        self.scheduler.start()
        await self._plugin_commands()
        api.settings.on_change(self._on_setting)
        if self.conf.enabled:
            await self.load_all()

    async def _plugin_commands(self) -> None:
        """Slash commands of core plugins (`register_slash_commands`, collected like any register_* hook);
        they win over apps, which register later."""
        try:
            declared = await self.api.hooks.collect("register_slash_commands")
        except AttributeError:   # no plugin implements it
            return
        for spec in declared:
            command = PluginProvider.command(spec)
            if command is not None:
                self.commands.register(command)

    def _on_setting(self, setting_id: str, value: Any, previous: Any) -> None:
        if setting_id == "Apps_Framework_enabled" and self.api is not None:
            self.spawn(self.load_all() if value else self.unload_all())

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        await self.scheduler.stop()
        apps, self.running = list(self.running.values()), {}
        self.sync_proxies()
        await asyncio.gather(*(app.stop(notify=None) for app in apps), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        if self.logs is not None:
            await self.logs.stop()
        if self.http is not None:
            await self.http.close()

    async def unload_all(self) -> None:
        """The apps framework was switched off: stop every app here (their records keep their status)."""
        for app_id in list(self.running):
            async with self.locks[app_id]:
                for command in await self.stop_app(app_id):
                    await self.emit("command.removed", [command])

    async def load_all(self) -> None:
        """Start every installed, enabled app (at start-up); one failing app never stops the others."""
        records = await self.store.all()
        self.records = {r["id"]: r for r in records}
        for problem in self.lock_writer.drift(records):
            log.warning("plugin.lock drift: %s (rewriting the apps section)", problem)
        gate = asyncio.Semaphore(START_CONCURRENCY)

        async def one(record: dict[str, Any]) -> None:
            async with gate, self.locks[record["id"]]:
                if record["id"] in self.running:
                    return
                try:
                    await self.run_app(record)
                except StartError as exc:
                    log.error("app %s did not start: %s", record["id"], exc.message)
                    self.logs.add(record["id"], "error", f"did not start: {exc.message}", "startup")
                    await self.set_record_status(record["id"], exc.status)

        await asyncio.gather(*(one(r) for r in records if is_enabled(r.get("status"))))
        self.sync_proxies()
        await self.write_lock()

    # -- files --------------------------------------------------------------------------------------------
    @property
    def files(self) -> AppFiles:
        return AppFiles(Path(self.api.data_dir) / "apps")

    async def ensure_files(self, record: dict[str, Any]) -> Path:
        try:
            return await self.files.ensure(record, lambda: self.store.get_package(record["packageFileId"]),
                                           self.conf.package_limits)
        except (ValueError, pkg.PackageError) as exc:
            raise StartError("invalid_installation_disabled", str(exc)) from None

    # -- running apps -------------------------------------------------------------------------------------
    async def run_app(self, record: dict[str, Any]) -> RunningApp:
        """Start an app process for `record` and enable it; registered by the caller (`sync_proxies`)."""
        package_dir = await self.ensure_files(record)
        app = RunningApp(self, record, package_dir, self.files.data_dir(record["id"]), self.conf.limits())
        await app.start()
        await self.merge_settings(record, app.registrations["settings"])
        missing = [s["id"] for s in record.get("settings", {}).values()
                   if s.get("required") and s.get("value", s.get("packageValue")) in (None, "")]
        if missing:
            await app.stop(notify=None)
            raise StartError("invalid_settings_disabled", "required settings have no value: " + ", ".join(missing))
        try:
            accepted = await app.enable()
        except StartError:
            await app.stop(notify=None)
            raise
        if not accepted:
            await app.stop(notify=None)
            raise StartError("disabled", "the app's on_enable refused")
        previous = self.running.get(record["id"])
        self.running[record["id"]] = app
        self.records[record["id"]] = record
        self._commands_for(app)
        if previous is not None and previous is not app:
            await self._retire(previous)
        return app

    async def _retire(self, app: RunningApp) -> None:
        """Stop a replaced version after its in-flight calls finish (bounded by the call deadline)."""
        self.sync_proxies()
        await app.drain(self.conf.call_timeout)
        await app.stop(notify=None)

    async def stop_app(self, app_id: str, notify: str | None = "app:onDisable") -> list[str]:
        """Unregister and stop the app; returns the slash commands it took away."""
        app = self.running.pop(app_id, None)
        gone = self.commands.unregister_app(app_id)
        self.sync_proxies()
        if app is not None:
            await app.stop(notify=notify)
        return gone

    def sync_proxies(self) -> None:
        """Register exactly the running apps' proxies, first-installed first in call order. Synchronous, so no
        hook call ever sees a half-updated set."""
        if self.api is None:
            return
        for name in self._registered:
            self.api.unregister_plugin(name)
        self._registered = []
        apps = sorted((a for a in self.running.values() if a.enabled and a.hooks),
                      key=lambda a: (a.record.get("createdAt") or now(), a.app_id))
        self.fanout.order = apps
        for app in reversed(apps):   # pluggy calls the last registered implementation first
            name = f"app:{app.app_id}"
            self.api.register_plugin(app.proxy, name)
            self._registered.append(name)

    def _commands_for(self, app: RunningApp) -> None:
        self.commands.unregister_app(app.app_id)
        provider = AppCommandProvider(app)
        for c in app.commands:
            self.commands.register(Command(c["command"], provider, c["description"], c["params"],
                                           c["providesPreview"], c["permission"], app.app_id))

    def spec_args(self, hooks: list[str]) -> dict[str, list[str]]:
        out = {}
        for hook in hooks:
            if hook not in self._spec_args:
                try:
                    self._spec_args[hook] = self.api.hook_args(hook)
                except LookupError:
                    self._spec_args[hook] = None
            if self._spec_args[hook] is not None:
                out[hook] = self._spec_args[hook]
        return out

    async def app_failed(self, app: RunningApp, why: str) -> None:
        """The sandbox gave up on a crashing or hanging app: error_disabled, proxy gone; the server goes on."""
        async with self.locks[app.app_id]:
            if self.running.get(app.app_id) is not app:
                return
            log.error("app %s disabled: %s", app.app_id, why)
            self.logs.add(app.app_id, "error", f"disabled: {why}", "supervisor")
            gone = await self.stop_app(app.app_id, notify=None)
            await self.set_record_status(app.app_id, "error_disabled")
        await self.emit("apps.statusUpdate", [app.app_id, "error_disabled"])
        for command in gone:
            await self.emit("command.removed", [command])
        await self.write_lock()

    # -- records, settings, bot users ----------------------------------------------------------------------
    def record_of(self, app_id: str) -> dict[str, Any] | None:
        return self.records.get(app_id)

    async def set_record_status(self, app_id: str, status: str) -> dict[str, Any] | None:
        record = await self.store.update(app_id, {"status": status})
        if record is not None:
            self.records[app_id] = record
        return record

    async def merge_settings(self, record: dict[str, Any], declared: list[dict[str, Any]]) -> None:
        """Settings an app declares in its configuration join those of its manifest; stored values stay."""
        settings = dict(record.get("settings") or {})
        added = False
        for decl in declared:
            if decl["id"] not in settings:
                settings[decl["id"]] = {**decl, "createdAt": now()}
                added = True
        if added:
            record["settings"] = settings
            await self.store.update(record["id"], {"settings": settings})

    def network_domains(self, app_id: str) -> list[str] | None:
        return manifest_mod.network_domains((self.records.get(app_id) or {}).get("info", {}))

    async def bot_user(self, app_id: str) -> dict[str, Any]:
        bot = self._bots.get(app_id)
        if bot is None:
            record = self.records.get(app_id) or {}
            bot = await self.api.db["users"].find_one({"_id": record.get("appUserId")},
                                                      {"_id": 1, "username": 1, "name": 1})
            if bot is None:
                raise LookupError(f"app {app_id} has no bot user")
            self._bots[app_id] = bot
        return bot

    def forget_bot(self, app_id: str) -> None:
        self._bots.pop(app_id, None)

    # -- events and other processes -----------------------------------------------------------------------
    async def emit(self, event: str, args: list[Any]) -> None:
        try:
            await self.api.broker.emit(event, args)
        except Exception:
            log.exception("could not emit %s", event)

    async def write_lock(self) -> None:
        try:
            await self.lock_writer.write(await self.store.all())
        except Exception:
            log.exception("could not rewrite the plugin.lock apps section")

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_event(self, payload: Any) -> None:
        app_id = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(app_id, str):
            self.spawn(self.reconcile(app_id))

    async def reconcile(self, app_id: str) -> None:
        """Make this process run what the record says (a no-op in the process that made the change)."""
        if await self._reconcile(app_id):
            await self.write_lock()

    async def _reconcile(self, app_id: str) -> bool:
        async with self.locks[app_id]:
            record = await self.store.get(app_id)
            app = self.running.get(app_id)
            if record is None:
                self.records.pop(app_id, None)
                self.forget_bot(app_id)
                if app is not None:
                    await self.stop_app(app_id, notify=None)
                self.files.remove_app(app_id)
                return app is not None
            previous = self.records.get(app_id)
            self.records[app_id] = record
            if not is_enabled(record.get("status")) or not self.conf.enabled:
                if app is not None:
                    await self.stop_app(app_id)
                return app is not None
            if app is None or app.hash != record.get("packageHash"):
                try:
                    await self.run_app(record)
                    self.sync_proxies()
                    self.files.prune(record)
                except StartError as exc:
                    log.error("app %s did not start in this process: %s", app_id, exc.message)
                return True
            await self._settings_changed(app, previous, record)
            return False

    async def _settings_changed(self, app: RunningApp, before: dict | None, after: dict) -> None:
        old = (before or {}).get("settings", {})
        for sid, setting in after.get("settings", {}).items():
            if old.get(sid, {}).get("value") != setting.get("value"):
                try:
                    await app.call("app:onSettingUpdated", {"id": sid, "value": setting.get("value")})
                except Exception as exc:
                    log.info("app %s onSettingUpdated(%s): %s", app.app_id, sid, exc)
