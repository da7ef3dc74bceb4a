"""The app side of the channel: loads the app, serves the server's requests, stubs the accessors."""
from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from pathlib import Path
from typing import Any

from apps_sdk.accessors import AREAS, method_names
from apps_sdk.app import APP_HOOKS, App, CommandContext, Configuration
from sandbox.protocol import INVALID_PARAMS, METHOD_NOT_FOUND, RpcError


class _Remote:
    """Stub for one accessor area: each method is a request to the server."""

    def __init__(self, peer: Any, area: str) -> None:
        for name in method_names(area):
            setattr(self, name, self._make(peer, f"accessor:{area}.{name}"))

    @staticmethod
    def _make(peer: Any, method: str):
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await peer.request(method, {"args": list(args), "kwargs": kwargs})
        call.__name__ = method
        return call


class _ChannelLog(logging.Handler):
    """App log records go to the server (stored in the app's logs)."""

    def __init__(self, peer: Any) -> None:
        super().__init__()
        self.peer = peer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.peer.notify("log", {"level": record.levelname.lower(), "message": self.format(record)[:4000]})
        except Exception:
            pass


class AppRuntime:
    def __init__(self, peer: Any, package_dir: Path) -> None:
        self.peer = peer
        self.package_dir = package_dir
        self.app: App | None = None
        self.config = Configuration()

    async def handle(self, method: str, params: Any) -> Any:
        if method == "ping":
            return "pong"
        if method == "app:construct":
            return self._construct(params)
        app = self.app
        if app is None:
            raise RpcError(METHOD_NOT_FOUND, "app not constructed")
        if method == "app:initialize":
            await app.initialize()
            app.extend_configuration(self.config)
            return self._registrations()
        if method == "app:onEnable":
            return bool(await app.on_enable())
        if method == "app:onDisable":
            return await app.on_disable()
        if method == "app:onUninstall":
            return await app.on_uninstall()
        if method == "app:onSettingUpdated":
            return await app.on_settings_updated(params["id"], params.get("value"))
        kind, _, rest = method.partition(":")
        if kind == "hook":
            return await self._hook(rest, params)
        if kind == "command":
            return await self._command(rest, params)
        if kind == "api":
            return await self._endpoint(rest, params)
        if kind == "scheduler":
            return await self._processor(rest, params)
        if kind == "uikit":
            return await self._uikit(rest, params)
        raise RpcError(METHOD_NOT_FOUND, f"unknown method {method}")

    def _construct(self, params: dict) -> dict:
        manifest = params["manifest"]
        class_file = self.package_dir / manifest.get("classFile", "app.py")
        if self.package_dir.resolve() not in class_file.resolve().parents:
            raise RpcError(INVALID_PARAMS, "classFile must be inside the package")
        sys.path.insert(0, str(self.package_dir))
        spec = importlib.util.spec_from_file_location(f"orbitchat_app_{class_file.stem}", class_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cls = self._app_class(module, manifest.get("className"))
        logger = logging.getLogger(f"app.{manifest['id']}")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(_ChannelLog(self.peer))
        app = cls(manifest, logger)
        for area in AREAS:
            setattr(app, area, _Remote(self.peer, area))
        self.app = app
        return {"hooks": cls.implemented_hooks()}

    @staticmethod
    def _app_class(module: Any, name: str | None) -> type[App]:
        if name:
            cls = getattr(module, name, None)
            if isinstance(cls, type) and issubclass(cls, App):
                return cls
            raise RpcError(INVALID_PARAMS, f"className {name} is not an App subclass")
        found = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, App) and v is not App]
        if len(found) != 1:
            raise RpcError(INVALID_PARAMS, "classFile must define exactly one App subclass (or set className)")
        return found[0]

    def _registrations(self) -> dict:
        c = self.config
        return {
            "commands": [{"command": x.command, "description": x.description, "paramsExample": x.params_example,
                          "providesPreview": x.previewer is not None, "permission": x.permission}
                         for x in c.commands],
            "endpoints": [{"path": e.path, "methods": list(e.methods), "authRequired": e.auth_required}
                          for e in c.endpoints],
            "settings": [{"id": s.id, "type": s.type, "packageValue": s.package_value, "required": s.required,
                          "public": s.public, "i18nLabel": s.i18n_label or s.id, "values": s.values}
                         for s in c.settings],
            "processors": [p.id for p in c.processors],
        }

    async def _hook(self, name: str, params: dict) -> Any:
        fn = getattr(self.app, name, None) if name in APP_HOOKS else None
        if fn is None or not callable(fn):
            raise RpcError(METHOD_NOT_FOUND, f"hook {name} not implemented")
        result = fn(**params)
        return await result if inspect.isawaitable(result) else result

    async def _command(self, rest: str, params: dict) -> Any:
        command, _, action = rest.rpartition(":")
        cmd = next((c for c in self.config.commands if c.command == command), None)
        if cmd is None:
            raise RpcError(METHOD_NOT_FOUND, f"command {command} not provided")
        ctx = CommandContext(sender=params["sender"], room=params["room"], args=params.get("args", []),
                             thread_id=params.get("threadId"), trigger_id=params.get("triggerId"))
        if action == "execute":
            return await cmd.executor(ctx)
        if action == "preview" and cmd.previewer is not None:
            return await cmd.previewer(ctx)
        if action == "previewItem" and cmd.preview_executor is not None:
            return await cmd.preview_executor(ctx, params.get("item") or {})
        raise RpcError(METHOD_NOT_FOUND, f"command {command} has no {action}")

    async def _endpoint(self, path: str, request: dict) -> Any:
        ep = next((e for e in self.config.endpoints if e.path == path), None)
        if ep is None:
            raise RpcError(METHOD_NOT_FOUND, f"no endpoint {path}")
        return await ep.handler(request)

    async def _processor(self, pid: str, job: dict) -> Any:
        proc = next((p for p in self.config.processors if p.id == pid), None)
        if proc is None:
            raise RpcError(METHOD_NOT_FOUND, f"no processor {pid}")
        return await proc.handler(job)

    async def _uikit(self, kind: str, interaction: dict) -> Any:
        handlers = {"blockAction": self.app.on_block_action, "viewSubmit": self.app.on_view_submit,
                    "viewClosed": self.app.on_view_closed, "actionButton": self.app.on_action_button}
        if kind not in handlers:
            raise RpcError(METHOD_NOT_FOUND, f"unknown interaction {kind}")
        return await handlers[kind](interaction)
