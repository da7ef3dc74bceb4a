"""Plugin discovery and selection: entry points, plugin.lock, `--services`, the essential set."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pluggy

from core import lock as lockfile
from core.config import Config
from core.hookspecs import PROJECT, spec_modules

log = logging.getLogger("orbitchat.plugins")

# Services every deployment needs; `--services` cannot leave them out and the lock cannot disable them.
ESSENTIAL = ("settings", "accounts", "authorization")


class LockDrift(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("plugin.lock does not match the installed plugins:\n  " + "\n  ".join(problems)
                         + "\nRun `orbitchat lock` to accept the installed set.")
        self.problems = problems


@dataclass
class Selection:
    plugins: list[tuple[str, Any]] = field(default_factory=list)   # (name, plugin object)
    report: list[str] = field(default_factory=list)                # drift and notices for start-up output


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT)
    for module in spec_modules():
        pm.add_hookspecs(module)
    return pm


def _instantiate(obj: Any) -> Any:
    return obj() if isinstance(obj, type) else obj


def _explicit(items: tuple[Any, ...], installed: dict[str, lockfile.Installed]) -> Selection:
    sel = Selection()
    for item in items:
        if isinstance(item, str):
            if item not in installed:
                raise LookupError(f"plugin {item!r} is not installed")
            sel.plugins.append((item, _instantiate(installed[item].entry_point.load())))
        else:
            name = getattr(item, "name", None) or getattr(item, "__name__", None) or type(item).__name__
            sel.plugins.append((str(name), _instantiate(item)))
    return sel


def select(config: Config) -> Selection:
    installed = lockfile.discover()
    if config.plugins is not None:
        return _explicit(config.plugins, installed)
    sel = Selection()
    lock = lockfile.read(config.lock_path)
    if lock is None:
        if config.strict_lock:
            raise LockDrift([f"no lock file at {config.lock_path}"])
        sel.report.append(f"no {config.lock_path}: loading every installed plugin (run `orbitchat lock` to pin)")
        wanted = sorted(installed)
    else:
        problems = lockfile.drift(lock, installed)
        if problems and config.strict_lock:
            raise LockDrift(problems)
        sel.report.extend(f"plugin.lock drift: {p}" for p in problems)
        wanted = [n for n, p in sorted(lock.plugins.items())
                  if n in installed and (p.enabled or n in ESSENTIAL)]
    if config.services is not None:
        unknown = set(config.services) - set(installed)
        if unknown:
            raise LookupError(f"--services names unknown plugins: {', '.join(sorted(unknown))}")
        keep = set(config.services) | set(ESSENTIAL)
        wanted = [n for n in wanted if n in keep]
    for name in wanted:
        try:
            sel.plugins.append((name, _instantiate(installed[name].entry_point.load())))
        except Exception as exc:
            raise RuntimeError(f"plugin {name} failed to load: {exc}") from exc
    return sel
