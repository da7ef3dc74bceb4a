"""plugin.lock: which plugins and apps a deployment runs, pinned by version and content hash.

The file is TOML, human-readable and committed. `orbitchat lock` writes it; start-up compares it with
what is installed and reports drift (installed but unlocked, locked but missing, version or hash changed).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import Any

GROUP = "orbitchat.plugins"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}


@dataclass
class LockedPlugin:
    name: str
    distribution: str
    version: str
    hash: str
    enabled: bool = True
    entry_point: str = ""


@dataclass
class Lock:
    plugins: dict[str, LockedPlugin] = field(default_factory=dict)
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Installed:
    name: str
    entry_point: metadata.EntryPoint
    distribution: str
    version: str
    hash: str


def content_hash(module: str) -> str:
    """sha256 over the plugin package's files (path and bytes), independent of install location."""
    spec = util.find_spec(module.split(":")[0])
    if spec is None or spec.origin is None:
        return "missing"
    origin = Path(spec.origin)
    root = origin.parent if origin.name == "__init__.py" else origin
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and not (set(p.relative_to(root).parts) & _SKIP_DIRS)
        and p.suffix not in (".pyc", ".pyo"))
    h = hashlib.sha256()
    for p in files:
        rel = p.name if root.is_file() else p.relative_to(root).as_posix()
        h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return "sha256:" + h.hexdigest()


def discover() -> dict[str, Installed]:
    out: dict[str, Installed] = {}
    for ep in metadata.entry_points(group=GROUP):
        dist = ep.dist
        out[ep.name] = Installed(
            name=ep.name, entry_point=ep,
            distribution=dist.metadata["Name"] if dist else "unknown",
            version=dist.version if dist else "0",
            hash=content_hash(ep.value.split(":")[0]),
        )
    return out


def read(path: Path) -> Lock | None:
    if not path.exists():
        return None
    data = tomllib.loads(path.read_text())
    lock = Lock()
    for name, entry in data.get("plugins", {}).items():
        lock.plugins[name] = LockedPlugin(
            name=name, distribution=entry.get("distribution", ""), version=entry.get("version", ""),
            hash=entry.get("hash", ""), enabled=bool(entry.get("enabled", True)),
            entry_point=entry.get("entry_point", ""))
    lock.apps = dict(data.get("apps", {}))
    return lock


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def render(lock: Lock) -> str:
    lines = ["# OrbitChat plugin lock: the plugins and apps this deployment runs.",
             "# Regenerate with `orbitchat lock`; set enabled = false to keep a plugin installed but off.", ""]
    for name in sorted(lock.plugins):
        p = lock.plugins[name]
        lines.append(f"[plugins.{name}]")
        for key in ("distribution", "version", "entry_point", "hash", "enabled"):
            lines.append(f"{key} = {_toml_value(getattr(p, key))}")
        lines.append("")
    for app_id in sorted(lock.apps):
        lines.append(f'[apps."{app_id}"]')
        for key, value in lock.apps[app_id].items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def write(path: Path, lock: Lock) -> None:
    """Atomic replace: readers never see a half-written lock."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=".plugin.lock.")
    with os.fdopen(fd, "w") as f:
        f.write(render(lock))
    os.replace(tmp, path)


def build(installed: dict[str, Installed], previous: Lock | None) -> Lock:
    """A lock for what is installed; keeps `enabled` flags and the apps section of the previous lock."""
    lock = Lock(apps=dict(previous.apps) if previous else {})
    for name, inst in installed.items():
        enabled = previous.plugins[name].enabled if previous and name in previous.plugins else True
        lock.plugins[name] = LockedPlugin(name, inst.distribution, inst.version, inst.hash, enabled,
                                          inst.entry_point.value)
    return lock


def drift(lock: Lock, installed: dict[str, Installed]) -> list[str]:
    problems = []
    for name in sorted(set(installed) - set(lock.plugins)):
        problems.append(f"installed but not locked: {name} ({installed[name].distribution} "
                        f"{installed[name].version})")
    for name in sorted(set(lock.plugins) - set(installed)):
        problems.append(f"locked but missing: {name} ({lock.plugins[name].distribution} {lock.plugins[name].version})")
    for name in sorted(set(lock.plugins) & set(installed)):
        locked, inst = lock.plugins[name], installed[name]
        if locked.version != inst.version:
            problems.append(f"version changed: {name} locked {locked.version}, installed {inst.version}")
        if locked.hash != inst.hash:
            problems.append(f"content changed: {name} (hash differs from plugin.lock)")
    return problems
