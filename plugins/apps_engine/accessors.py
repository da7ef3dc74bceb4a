"""The server side of the accessors: what an app process may ask for, already checked against its manifest's
permissions by the sandbox host. Each request is bound to the accessor's signature first, so an app cannot
smuggle an operator object into a query: ids and names must be strings.
"""
from __future__ import annotations

import inspect
import json as jsonlib
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import bson

from core.broker import ServiceNotFound
from core.context import random_id
from core.errors import ApiError
from plugins.apps_engine.netguard import Blocked
from plugins.apps_engine.store import now
from sandbox.protocol import APP_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, RpcError

if TYPE_CHECKING:
    from plugins.apps_engine.service import AppsEngine

log = logging.getLogger("orbitchat.apps_engine")

MAX_RECORD_BYTES = 1024 * 1024
# Server settings an app never reads, whatever their declared type: credentials by any other name.
SECRET_SETTING = re.compile(r"(secret|password|passwd|token|private_?key|api_?key|credential)", re.IGNORECASE)
MAX_MEMBERS = 10_000
USER_HIDDEN = {"services": 0, "e2e": 0, "inviteToken": 0}
UI_KINDS = {"open_modal": ("modal.open", "modal"), "update_modal": ("modal.update", "modal"),
            "open_contextual_bar": ("contextual_bar.open", "contextualBar"),
            "update_contextual_bar": ("contextual_bar.update", "contextualBar")}


class AccessorError(Exception):
    """A refusal the app sees as the accessor's error message."""


def _str(value: Any, what: str, limit: int = 256) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise AccessorError(f"{what} must be a non-empty string of at most {limit} characters")
    return value


def _opt_list(value: Any, what: str) -> list | None:
    if value is not None and not isinstance(value, list):
        raise AccessorError(f"{what} must be a list")
    return value


class Accessors:
    def __init__(self, engine: AppsEngine) -> None:
        self.engine = engine
        self.table: dict[str, Callable[..., Any]] = {}
        self.signatures: dict[str, inspect.Signature] = {}
        for attr in dir(self):
            area, _, method = attr.partition("_")
            if area in ("reader", "modifier", "ui", "persistence", "http", "settings", "scheduler") and method:
                fn = getattr(self, attr)
                self.table[f"{area}.{method}"] = fn
                self.signatures[f"{area}.{method}"] = inspect.signature(fn)

    @property
    def api(self) -> Any:
        return self.engine.api

    @property
    def db(self) -> Any:
        return self.engine.api.db

    async def handle(self, app_id: str, name: str, args: list, kwargs: dict) -> Any:
        fn = self.table.get(name)
        if fn is None:
            raise RpcError(METHOD_NOT_FOUND, f"accessor {name} is not available")
        try:
            bound = self.signatures[name].bind(app_id, *args, **kwargs)
        except TypeError as exc:
            raise RpcError(INVALID_PARAMS, f"{name}: {exc}") from None
        try:
            return await fn(*bound.args, **bound.kwargs)
        except RpcError:
            raise
        except (AccessorError, Blocked) as exc:
            raise RpcError(APP_ERROR, f"{name}: {exc}") from None
        except ApiError as exc:
            raise RpcError(APP_ERROR, f"{name}: {exc.message}") from None
        except ServiceNotFound as exc:
            raise RpcError(APP_ERROR, f"{name}: the {exc} service is not running") from None
        except Exception:
            log.exception("accessor %s for app %s failed", name, app_id)
            raise RpcError(APP_ERROR, f"{name} failed") from None

    async def _call(self, action: str, *args: Any, fallback: Callable[[], Any] | None = None) -> Any:
        try:
            return await self.api.broker.call(action, *args)
        except ServiceNotFound:
            if fallback is None:
                raise
            return await fallback()

    # -- reader --------------------------------------------------------------------------------------------
    async def reader_get_room(self, app_id: str, room_id: Any) -> dict | None:
        rid = _str(room_id, "room_id")
        return await self._call("rooms.get", rid,
                                fallback=lambda: self.db["rocketchat_room"].find_one({"_id": rid}))

    async def reader_get_room_by_name(self, app_id: str, name: Any) -> dict | None:
        return await self.db["rocketchat_room"].find_one({"name": _str(name, "name")})

    async def reader_get_room_members(self, app_id: str, room_id: Any) -> list[dict]:
        rid = _str(room_id, "room_id")
        subs = self.db["rocketchat_subscription"].find({"rid": rid}, {"u": 1}).limit(MAX_MEMBERS)
        ids = [s["u"]["_id"] async for s in subs if isinstance(s.get("u"), dict)]
        return [u async for u in self.db["users"].find({"_id": {"$in": ids}}, USER_HIDDEN)]

    async def reader_get_user(self, app_id: str, user_id: Any) -> dict | None:
        uid = _str(user_id, "user_id")
        return await self._call("accounts.get_user", uid,
                                fallback=lambda: self.db["users"].find_one({"_id": uid}, USER_HIDDEN))

    async def reader_get_user_by_username(self, app_id: str, username: Any) -> dict | None:
        name = _str(username, "username")
        return await self._call("accounts.get_user_by_username", name,
                                fallback=lambda: self.db["users"].find_one({"username": name}, USER_HIDDEN))

    async def reader_get_message(self, app_id: str, message_id: Any) -> dict | None:
        return await self.db["rocketchat_message"].find_one({"_id": _str(message_id, "message_id")})

    async def reader_get_server_setting(self, app_id: str, setting_id: Any) -> Any:
        sid = _str(setting_id, "setting_id")
        definition = self.api.settings.definitions.get(sid)
        if (definition is None or definition.get("hidden") or definition.get("type") == "password"
                or SECRET_SETTING.search(sid)):
            raise AccessorError(f"setting {sid} is not readable")
        return self.api.settings.get(sid)

    # -- modifier ------------------------------------------------------------------------------------------
    async def modifier_send_message(self, app_id: str, room_id: Any, text: Any = "", *, alias: Any = None,
                                    emoji: Any = None, attachments: Any = None, blocks: Any = None,
                                    thread_id: Any = None) -> dict:
        message: dict[str, Any] = {"rid": _str(room_id, "room_id"), "msg": text if isinstance(text, str) else ""}
        for key, value in (("alias", alias), ("emoji", emoji), ("tmid", thread_id)):
            if value is not None:
                message[key] = _str(value, key)
        if _opt_list(attachments, "attachments") is not None:
            message["attachments"] = attachments
        if _opt_list(blocks, "blocks") is not None:
            message["blocks"] = [{**b, "appId": b.get("appId", app_id)} if isinstance(b, dict) else b
                                 for b in blocks]
        bot = await self.engine.bot_user(app_id)
        return await self.api.broker.call("messaging.send", bot["_id"], message)

    async def modifier_update_message(self, app_id: str, message_id: Any, text: Any = None, *,
                                      attachments: Any = None, blocks: Any = None) -> dict:
        fields: dict[str, Any] = {}
        if text is not None:
            fields["msg"] = _str(text, "text", 100_000)
        if _opt_list(attachments, "attachments") is not None:
            fields["attachments"] = attachments
        if _opt_list(blocks, "blocks") is not None:
            fields["blocks"] = blocks
        bot = await self.engine.bot_user(app_id)
        return await self.api.broker.call("messaging.update", bot["_id"], _str(message_id, "message_id"), fields)

    async def modifier_create_room(self, app_id: str, room_type: Any, name: Any, members: Any = None) -> dict:
        if room_type not in ("c", "p"):
            raise AccessorError("room_type must be 'c' or 'p'")
        members = _opt_list(members, "members") or []
        if not all(isinstance(m, str) for m in members):
            raise AccessorError("members must be usernames")
        bot = await self.engine.bot_user(app_id)
        return await self.api.broker.call("rooms.create", bot["_id"], room_type, _str(name, "name"), members)

    async def modifier_notify_user(self, app_id: str, user_id: Any, room_id: Any, text: Any,
                                   blocks: Any = None) -> None:
        uid, rid = _str(user_id, "user_id"), _str(room_id, "room_id")
        await self.api.broker.emit("notify.ephemeralMessage",
                                   {"uid": uid, "rid": rid,
                                    "message": await self._ephemeral(app_id, rid, text, blocks)})

    async def modifier_notify_room(self, app_id: str, room_id: Any, text: Any) -> None:
        rid = _str(room_id, "room_id")
        message = await self._ephemeral(app_id, rid, text, None)
        subs = self.db["rocketchat_subscription"].find({"rid": rid}, {"u": 1}).limit(MAX_MEMBERS)
        async for sub in subs:
            uid = (sub.get("u") or {}).get("_id")
            if uid:
                await self.api.broker.emit("notify.ephemeralMessage", {"uid": uid, "rid": rid, "message": message})

    async def _ephemeral(self, app_id: str, rid: str, text: Any, blocks: Any) -> dict:
        bot = await self.engine.bot_user(app_id)
        message = {"_id": random_id(), "rid": rid, "ts": now(), "msg": text if isinstance(text, str) else "",
                   "u": {"_id": bot["_id"], "username": bot["username"], "name": bot.get("name")},
                   "private": True, "_updatedAt": now()}
        if _opt_list(blocks, "blocks"):
            message["blocks"] = [{**b, "appId": app_id} if isinstance(b, dict) else b for b in blocks]
        return message

    # -- ui --------------------------------------------------------------------------------------------------
    async def _surface(self, app_id: str, kind: str, view: Any, trigger_id: Any, user_id: Any) -> None:
        if not isinstance(view, dict):
            raise AccessorError("view must be an object")
        interaction_type, view_type = UI_KINDS[kind]
        view = {**view, "appId": app_id, "type": view_type, "id": view.get("id") or random_id()}
        if view_type == "modal":
            view.setdefault("showIcon", True)
        await self.api.broker.emit("notify.uiInteraction", {"uid": _str(user_id, "user_id"), "interaction": {
            "type": interaction_type, "triggerId": _str(trigger_id, "trigger_id"), "appId": app_id, "view": view}})

    async def ui_open_modal(self, app_id: str, view: Any, trigger_id: Any, user_id: Any) -> None:
        await self._surface(app_id, "open_modal", view, trigger_id, user_id)

    async def ui_update_modal(self, app_id: str, view: Any, trigger_id: Any, user_id: Any) -> None:
        await self._surface(app_id, "update_modal", view, trigger_id, user_id)

    async def ui_open_contextual_bar(self, app_id: str, view: Any, trigger_id: Any, user_id: Any) -> None:
        await self._surface(app_id, "open_contextual_bar", view, trigger_id, user_id)

    async def ui_update_contextual_bar(self, app_id: str, view: Any, trigger_id: Any, user_id: Any) -> None:
        await self._surface(app_id, "update_contextual_bar", view, trigger_id, user_id)

    async def ui_close_modal(self, app_id: str, view_id: Any, user_id: Any) -> None:
        await self.api.broker.emit("notify.uiInteraction", {"uid": _str(user_id, "user_id"), "interaction": {
            "type": "modal.close", "appId": app_id, "viewId": _str(view_id, "view_id")}})

    # -- persistence (scoped to the app) -------------------------------------------------------------------
    @staticmethod
    def _record(data: Any) -> dict:
        if not isinstance(data, dict):
            raise AccessorError("data must be an object")
        if len(bson.encode({"d": data})) > MAX_RECORD_BYTES:
            raise AccessorError(f"data larger than {MAX_RECORD_BYTES} bytes")
        return data

    async def persistence_create(self, app_id: str, data: Any, associations: Any = None) -> str:
        assoc = [_str(a, "association", 512) for a in (_opt_list(associations, "associations") or [])]
        rid = random_id()
        await self.engine.store.persistence.insert_one({"_id": rid, "appId": app_id, "associations": assoc,
                                                        "data": self._record(data), "_updatedAt": now()})
        return rid

    async def persistence_read(self, app_id: str, record_id: Any) -> dict | None:
        doc = await self.engine.store.persistence.find_one({"_id": _str(record_id, "record_id"), "appId": app_id})
        return doc["data"] if doc else None

    async def persistence_find(self, app_id: str, association: Any) -> list[dict]:
        cursor = self.engine.store.persistence.find({"appId": app_id, "associations": _str(association,
                                                                                            "association", 512)})
        return [{"id": d["_id"], **d["data"]} async for d in cursor.limit(10_000)]

    async def persistence_update(self, app_id: str, record_id: Any, data: Any) -> None:
        res = await self.engine.store.persistence.update_one(
            {"_id": _str(record_id, "record_id"), "appId": app_id},
            {"$set": {"data": self._record(data), "_updatedAt": now()}})
        if res.matched_count == 0:
            raise AccessorError(f"no record {record_id}")

    async def persistence_remove(self, app_id: str, record_id: Any) -> None:
        await self.engine.store.persistence.delete_one({"_id": _str(record_id, "record_id"), "appId": app_id})

    async def persistence_remove_by_association(self, app_id: str, association: Any) -> int:
        res = await self.engine.store.persistence.delete_many(
            {"appId": app_id, "associations": _str(association, "association", 512)})
        return res.deleted_count

    # -- http (through the SSRF guard) ---------------------------------------------------------------------
    async def _http(self, app_id: str, method: str, url: Any, headers: Any = None, params: Any = None,
                    json: Any = None, content: Any = None) -> dict:
        if headers is not None and not (isinstance(headers, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise AccessorError("headers must map strings to strings")
        if params is not None and not isinstance(params, dict):
            raise AccessorError("params must be an object")
        if content is not None and not isinstance(content, str):
            raise AccessorError("content must be a string")
        headers = {"Accept-Encoding": "identity", **(headers or {})}
        response, body = await self.engine.http.fetch(
            method, _str(url, "url", 8192), headers=headers, params=params, json=json, content=content,
            timeout=self.engine.conf.http_timeout, max_bytes=self.engine.conf.http_max_bytes,
            domains=self.engine.network_domains(app_id))
        text = body.decode(response.encoding or "utf-8", "replace")
        data = None
        if "json" in response.headers.get("content-type", ""):
            try:
                data = jsonlib.loads(text)
            except ValueError:
                data = None
        return {"status": response.status_code, "headers": dict(response.headers), "content": text, "data": data}

    async def http_get(self, app_id: str, url: Any, *, headers: Any = None, params: Any = None) -> dict:
        return await self._http(app_id, "GET", url, headers, params)

    async def http_post(self, app_id: str, url: Any, *, headers: Any = None, json: Any = None,
                        content: Any = None) -> dict:
        return await self._http(app_id, "POST", url, headers, None, json, content)

    async def http_put(self, app_id: str, url: Any, *, headers: Any = None, json: Any = None,
                       content: Any = None) -> dict:
        return await self._http(app_id, "PUT", url, headers, None, json, content)

    async def http_delete(self, app_id: str, url: Any, *, headers: Any = None) -> dict:
        return await self._http(app_id, "DELETE", url, headers)

    # -- the app's own settings -------------------------------------------------------------------------
    async def settings_get(self, app_id: str, setting_id: Any) -> Any:
        sid = _str(setting_id, "setting_id")
        setting = (self.engine.record_of(app_id) or {}).get("settings", {}).get(sid)
        if setting is None:
            raise AccessorError(f"no setting {sid}")
        return setting.get("value", setting.get("packageValue"))

    # -- scheduler ---------------------------------------------------------------------------------------
    async def scheduler_schedule_once(self, app_id: str, processor_id: Any, when: Any, data: Any = None) -> str:
        return await self.engine.scheduler.schedule_once(app_id, _str(processor_id, "processor_id"), when, data)

    async def scheduler_schedule_recurring(self, app_id: str, processor_id: Any, interval_seconds: Any,
                                           data: Any = None, skip_immediate: Any = False) -> str:
        return await self.engine.scheduler.schedule_recurring(app_id, _str(processor_id, "processor_id"),
                                                              interval_seconds, data, bool(skip_immediate))

    async def scheduler_cancel(self, app_id: str, job_id: Any) -> None:
        await self.engine.scheduler.cancel(app_id, _str(job_id, "job_id"))

    async def scheduler_cancel_all(self, app_id: str) -> None:
        await self.engine.scheduler.cancel_all(app_id)
