"""Install, update, enable/disable, settings and uninstall: each an operation on one app, serialised per app,
that changes the record, this process's running set, plugin.lock, and tells the other processes and clients."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from apps_sdk import manifest as manifest_mod
from core.errors import ApiError, NotFound
from plugins.apps_engine import package as pkg
from plugins.apps_engine.netguard import Blocked
from plugins.apps_engine.runner import StartError
from plugins.apps_engine.store import is_enabled, now

if TYPE_CHECKING:
    from plugins.apps_engine.service import AppsEngine

Events = list[tuple[str, list[Any]]]


def _settings_from_manifest(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: {"packageValue": None, "required": False, "public": False, "i18nLabel": s["id"], **s,
                      "createdAt": now()} for s in manifest.get("settings", [])}


def _command_events(before: set[str], after: set[str]) -> Events:
    return ([("command.removed", [c]) for c in sorted(before - after)]
            + [("command.added", [c]) for c in sorted(after - before)])


class Lifecycle:
    def __init__(self, engine: AppsEngine) -> None:
        self.e = engine

    def _commands(self, app_id: str) -> set[str]:
        return {c.command for c in self.e.commands.all() if c.app_id == app_id}

    async def _finish(self, events: Events) -> None:
        for event, args in events:
            await self.e.emit(event, args)
        await self.e.write_lock()

    async def _record(self, app_id: str) -> dict[str, Any]:
        record = await self.e.store.get(app_id)
        if record is None:
            raise NotFound(f"No App found by the id of: {app_id}")
        return record

    # -- install and update ----------------------------------------------------------------------------------
    async def install(self, data: bytes, user: dict | None, *, update_of: str | None = None) -> dict[str, Any]:
        e = self.e
        if not e.conf.enabled:
            raise ApiError("Apps are disabled on this server", "error-apps-disabled")
        try:
            package = pkg.read_package(data, e.conf.package_limits)
        except pkg.PackageError as exc:
            raise ApiError(f"Invalid app package: {exc}", "error-invalid-app-package",
                           details={"problems": exc.problems}) from None
        app_id = package.manifest["id"]
        if update_of is not None and app_id != update_of:
            raise ApiError(f"The package is app {app_id}, not {update_of}", "error-app-id-mismatch")
        async with e.locks[app_id]:
            existing = await e.store.get(app_id)
            if existing is None and update_of is not None:
                raise NotFound(f"No App found by the id of: {update_of}")
            if existing is not None and update_of is None:
                raise ApiError(f"App {app_id} is already installed; update it instead", "error-app-already-exists")
            if existing is None:
                record, events = await self._install_new(package, user)
            else:
                record, events = await self._update(existing, package)
        await self._finish(events)
        return record

    async def install_url(self, url: str, user: dict | None, *, update_of: str | None = None) -> dict[str, Any]:
        limits = self.e.conf.package_limits
        try:
            response, body = await self.e.http.fetch("GET", url, timeout=30.0, max_bytes=limits.max_compressed,
                                                     headers={"Accept-Encoding": "identity"})
        except Blocked as exc:
            raise ApiError(f"Could not download the app: {exc}", "error-app-download-failed") from None
        if response.status_code != 200:
            raise ApiError(f"Could not download the app: HTTP {response.status_code}", "error-app-download-failed")
        return await self.install(body, user, update_of=update_of)

    async def install_path(self, path: str | Path, *, update: bool = False) -> dict[str, Any]:
        """Install (or update) from a zip on this machine: the CLI's way in."""
        path = Path(path)
        if path.stat().st_size > self.e.conf.package_limits.max_compressed:
            raise ApiError("Invalid app package: larger than the size limit", "error-invalid-app-package")
        data = path.read_bytes()
        update_of = None
        if update:
            try:
                update_of = pkg.read_package(data, self.e.conf.package_limits).manifest["id"]
            except pkg.PackageError as exc:
                raise ApiError(f"Invalid app package: {exc}", "error-invalid-app-package") from None
        return await self.install(data, None, update_of=update_of)

    async def _install_new(self, package: pkg.Package, user: dict | None) -> tuple[dict, Events]:
        e, manifest = self.e, package.manifest
        app_id = manifest["id"]
        bot = await self._ensure_bot(manifest)
        file_id = await e.store.put_package(app_id, manifest["version"], package.hash, package.raw)
        version_dir = manifest["version"]
        e.files.extract(package, app_id, version_dir)
        ts = now()
        record: dict[str, Any] = {
            "id": app_id, "info": manifest, "status": "initialized", "settings": _settings_from_manifest(manifest),
            "implemented": {}, "installationSource": "private", "createdAt": ts, "installedAt": ts,
            "updatedAt": ts, "packageHash": package.hash, "packageFileId": file_id, "packageSize": package.size,
            "versionDir": version_dir, "appUserId": bot["_id"], "migrated": False, "languageContent": {},
            "permissionsGranted": [{"name": p} for p in sorted(manifest_mod.permissions(manifest))]}
        if user:
            record["installedBy"] = {"_id": user.get("_id"), "username": user.get("username")}
        if package.icon is not None:
            kind, content = package.icon
            record["iconFileContent"] = f"data:{kind};base64,{base64.b64encode(content).decode()}"
        try:
            record = await e.store.insert(record)
        except DuplicateKeyError:
            await e.store.delete_package(file_id)
            raise ApiError(f"App {app_id} is already installed; update it instead",
                           "error-app-already-exists") from None
        e.records[app_id] = record
        e.logs.add(app_id, "info", f"installed version {manifest['version']}", "lifecycle")
        status = await self._start(record, "manually_enabled")
        events: Events = [("apps.added", [app_id]), ("apps.statusUpdate", [app_id, status])]
        return e.records[app_id], events + _command_events(set(), self._commands(app_id))

    async def _start(self, record: dict[str, Any], enabled_status: str) -> str:
        e, app_id = self.e, record["id"]
        try:
            app = await e.run_app(record)
        except StartError as exc:
            e.logs.add(app_id, "error", f"did not start: {exc.message}", "lifecycle")
            await e.set_record_status(app_id, exc.status)
            return exc.status
        e.sync_proxies()
        updated = await e.store.update(app_id, {"status": enabled_status,
                                                "implemented": {h: True for h in app.hooks}})
        e.records[app_id] = updated or record
        return enabled_status

    async def _update(self, existing: dict[str, Any], package: pkg.Package) -> tuple[dict, Events]:
        e, manifest = self.e, package.manifest
        app_id = manifest["id"]
        same = existing.get("packageHash") == package.hash
        version_dir = manifest["version"]
        if not same and version_dir == existing["versionDir"]:
            version_dir = f"{version_dir}-{package.hash[7:19]}"
        file_id = existing["packageFileId"]
        if not same:
            file_id = await e.store.put_package(app_id, manifest["version"], package.hash, package.raw)
            e.files.extract(package, app_id, version_dir)
        settings = _settings_from_manifest(manifest)
        for sid, old in (existing.get("settings") or {}).items():
            settings[sid] = {**settings.get(sid, old), **({"value": old["value"]} if "value" in old else {})}
        candidate = {**existing, "info": manifest, "packageHash": package.hash, "packageFileId": file_id,
                     "packageSize": package.size, "versionDir": version_dir if not same else existing["versionDir"],
                     "settings": settings}
        before = self._commands(app_id)
        if is_enabled(existing.get("status")):
            try:
                app = await e.run_app(candidate)      # the new version starts; then the proxy swaps
            except StartError as exc:
                if not same:
                    await e.store.delete_package(file_id)
                    e.files.remove_version(app_id, version_dir)
                raise ApiError(f"The new version did not start ({exc.message}); version "
                               f"{existing['info']['version']} keeps running", "error-app-update-failed") from None
            candidate["implemented"] = {h: True for h in app.hooks}
        fields = {k: candidate[k] for k in ("info", "packageHash", "packageFileId", "packageSize", "versionDir",
                                            "settings", "implemented")}
        record = await e.store.update(app_id, fields) or candidate
        e.records[app_id] = record
        if not same:
            await e.store.delete_package(existing["packageFileId"])
            if existing["versionDir"] != record["versionDir"]:
                e.files.remove_version(app_id, existing["versionDir"])
        e.logs.add(app_id, "info", f"updated to version {manifest['version']}", "lifecycle")
        return record, [("apps.updated", [app_id])] + _command_events(before, self._commands(app_id))

    # -- status, settings, uninstall ---------------------------------------------------------------------------
    async def set_status(self, app_id: str, status: str) -> str:
        e = self.e
        async with e.locks[app_id]:
            record = await self._record(app_id)
            before = self._commands(app_id)
            if status == "manually_enabled":
                if app_id in e.running:
                    await e.set_record_status(app_id, status)
                else:
                    status = await self._start(record, status)
            else:
                await e.stop_app(app_id)
                await e.set_record_status(app_id, status)
            e.logs.add(app_id, "info", f"status set to {status}", "lifecycle")
        await self._finish([("apps.statusUpdate", [app_id, status])] + _command_events(before, self._commands(app_id)))
        return status

    async def update_settings(self, app_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        e = self.e
        async with e.locks[app_id]:
            record = await self._record(app_id)
            settings = dict(record.get("settings") or {})
            updated = []
            for item in items:
                current = settings.get(item["id"])
                if current is None or current.get("hidden"):
                    raise ApiError(f"The app has no setting {item['id']}", "error-invalid-setting")
                value = _coerce(current, item.get("value"))
                settings[item["id"]] = {**current, "value": value, "updatedAt": now()}
                updated.append(settings[item["id"]])
            e.records[app_id] = await e.store.update(app_id, {"settings": settings}) or record
            app = e.running.get(app_id)
            for setting in updated:
                if app is not None:
                    try:
                        await app.call("app:onSettingUpdated", {"id": setting["id"], "value": setting["value"]})
                    except Exception as exc:
                        e.logs.add(app_id, "warning", f"on_settings_updated failed: {exc}", "lifecycle")
        await self._finish([("apps.settingUpdated", [app_id, s]) for s in updated])
        return updated

    async def uninstall(self, app_id: str) -> dict[str, Any]:
        e = self.e
        async with e.locks[app_id]:
            record = await self._record(app_id)
            before = self._commands(app_id)
            app = e.running.get(app_id)
            if app is not None:
                try:
                    await app.call("app:onUninstall", None, 5.0)
                except Exception as exc:
                    e.logs.add(app_id, "info", f"on_uninstall: {exc}", "lifecycle")
            await e.stop_app(app_id)
            e.logs.forget(app_id)
            await e.store.purge(app_id)
            await e.store.delete_package(record["packageFileId"])
            await e.store.delete(app_id)
            if record.get("appUserId"):
                await e.api.broker.call("accounts.delete_user", record["appUserId"])
            e.records.pop(app_id, None)
            e.forget_bot(app_id)
            e.files.remove_app(app_id)
        await self._finish([("apps.removed", [app_id])] + _command_events(before, set()))
        return {**record, "status": "disabled"}

    async def _ensure_bot(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """The app's bot user (`<nameSlug>.bot`, type app, role app): who its messages come from."""
        users = self.e.api.db["users"]
        username = f"{manifest['nameSlug']}.bot"
        found = await users.find_one({"username": username}, {"services": 0})
        if found is not None:
            if found.get("appId") == manifest["id"]:
                return found
            raise ApiError(f"The username {username} is already taken", "app_user_error")
        try:
            doc = await self.e.api.broker.call("accounts.create_user", {
                "username": username, "name": manifest["name"], "type": "app", "roles": ["app"],
                "appId": manifest["id"], "active": True})
        except ApiError:
            raise ApiError(f"The username {username} is already taken", "app_user_error") from None
        return doc


def _coerce(setting: dict[str, Any], value: Any) -> Any:
    kind = setting.get("type")
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if kind == "int" and isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    if kind == "select":
        keys = [v.get("key") for v in setting.get("values") or [] if isinstance(v, dict)]
        if value in keys:
            return value
    elif kind == "multiSelect":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    elif kind not in ("boolean", "int") and isinstance(value, str) and len(value) <= 100_000:
        return value
    raise ApiError(f"Invalid value for setting {setting.get('id')}", "error-invalid-setting-value")
