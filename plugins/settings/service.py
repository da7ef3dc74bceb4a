"""Settings logic: seed declared settings, validate and persist changes, emit `watch.settings`."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne

from core.errors import ApiError, MeteorError
from plugins.settings.models import Setting

META_FIELDS = ("type", "public", "hidden", "blocked", "group", "section", "i18nLabel", "i18nDescription",
               "values", "sorter", "enterprise", "properties")
CHANGED_EVENT = "watch.settings"


def now() -> datetime:
    return datetime.now(UTC)


def check_value(definition: dict[str, Any], value: Any) -> Any:
    """Validate a new value against the setting's type; return it normalised."""
    kind = definition["type"]
    sid = definition["_id"]
    bad = MeteorError("error-invalid-setting-value", f"Invalid value for setting {sid}")
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad
    elif kind in ("int", "timespan"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise bad
        value = int(value)
    elif kind == "select":
        allowed = [v.get("key") for v in definition.get("values") or []]
        if value not in allowed:
            raise bad
    elif kind == "multiSelect":
        allowed = {v.get("key") for v in definition.get("values") or []}
        if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
            raise bad
    elif kind == "action":
        raise MeteorError("error-action-not-allowed", "Action settings are executed, not set")
    elif not isinstance(value, str):
        raise bad
    return value


def public_view(doc: dict[str, Any]) -> dict[str, Any]:
    out = {"_id": doc["_id"], "value": doc.get("value")}
    for key in ("enterprise", "invalidValue", "modules"):
        if key in doc:
            out[key] = doc[key]
    return out


class SettingsService:
    """Created with the plugin; `start(api)` binds it to the running kernel."""

    api: Any

    async def start(self, api: Any) -> None:
        self.api = api
        self.coll = Setting.get_pymongo_collection()
        await self.seed()
        await api.broker.subscribe(CHANGED_EVENT, self.on_changed)

    async def seed(self) -> None:
        """Insert settings declared for the first time, refresh changed metadata, load every value.

        One read and at most two bulk writes, whatever the number of settings: start-up stays fast.
        """
        view = self.api.settings
        existing = {d["_id"]: d async for d in self.coll.find({})}
        ts = now()
        inserts, updates = [], []
        for sid, definition in view.definitions.items():
            meta = {k: definition[k] for k in META_FIELDS if k in definition}
            meta["packageValue"] = definition["value"]
            old = existing.get(sid)
            if old is not None:
                forced = view.override(sid, old.get("value"))
                if forced != old.get("value"):   # OVERWRITE_SETTING_<id>: stored too, as Rocket.Chat does
                    meta.update(value=forced, valueSource="processEnvValue")
                    old.update(value=forced)
                if any(old.get(k) != v for k, v in meta.items()):
                    updates.append(UpdateOne({"_id": sid}, {"$set": meta}))
                continue
            initial = view.initial_from_env(sid)
            value = definition["value"] if initial is None else initial
            forced = view.override(sid, value)
            from_env = initial is not None or forced != value
            value = forced
            doc = {"_id": sid, **meta, "value": value,
                   "valueSource": "processEnvValue" if from_env else "packageValue",
                   "ts": ts, "createdAt": ts, "_updatedAt": ts}
            inserts.append(UpdateOne({"_id": sid}, {"$setOnInsert": doc}, upsert=True))
            existing[sid] = doc
        if inserts or updates:
            await self.coll.bulk_write(inserts + updates, ordered=False)
        for sid, doc in existing.items():
            if sid in view.definitions:
                view.apply(sid, doc.get("value"))

    async def get(self, sid: str) -> dict[str, Any] | None:
        if sid not in self.api.settings.definitions:
            return None
        return await self.coll.find_one({"_id": sid})

    async def list(self, *, public_only: bool, flt: dict, skip: int, limit: int,
                   sort: list[tuple[str, int]] | None) -> tuple[list[dict], int]:
        query: dict[str, Any] = {**flt, "hidden": {"$ne": True}}
        if public_only:
            query["public"] = True
        total = await self.coll.count_documents(query)
        cursor = self.coll.find(query).sort(sort or [("_id", 1)]).skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return [d async for d in cursor], total

    async def set(self, sid: str, value: Any, editor: str | None = None, actor: dict | None = None) -> dict:
        definition = self.api.settings.definitions.get(sid)
        if definition is None or definition.get("hidden"):
            raise ApiError("Setting not found", "error-setting-not-found", status=404)
        if definition.get("blocked"):
            raise MeteorError("error-setting-blocked", f"Setting {sid} is blocked")
        value = check_value(definition, value)
        previous = self.api.settings.get(sid)
        update: dict[str, Any] = {"value": value, "valueSource": "customValue", "_updatedAt": now()}
        if editor is not None:
            update["editor"] = editor
        await self.coll.update_one({"_id": sid}, {"$set": update})
        self.api.settings.apply(sid, value)
        event = {"clientAction": "updated", "setting": {"_id": sid, "value": value, "editor": editor,
                                                        "public": bool(definition.get("public"))}}
        await self.api.emit_watch(CHANGED_EVENT, event)
        self.api.hooks.notify("post_setting_changed", setting_id=sid, value=value, previous=previous)
        return {"_id": sid, "value": value}

    def on_changed(self, event: dict[str, Any]) -> None:
        """A committed change (from this process or another): update this process's view. Websocket
        clients learn of it from ddp_streamer, which listens to the same event."""
        setting = event.get("setting") or {}
        sid = setting.get("_id")
        if sid not in self.api.settings.definitions:
            return
        self.api.settings.apply(sid, setting.get("value"))
