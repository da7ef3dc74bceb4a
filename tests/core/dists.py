"""Fake installed distributions for tests: a package plus a `.dist-info` directory, no pip involved.

Put the returned directory on `sys.path` (or `PYTHONPATH` for a subprocess) and `importlib.metadata`
discovers the distribution and its `orbitchat.plugins` entry points exactly as if pip had installed it.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

from core.context import random_id


def unique_name(prefix: str) -> str:
    """A module name no other test uses (imported modules stay in `sys.modules` for the whole run)."""
    return f"{prefix}_{random_id(8).lower()}"


def make_dist(root: Path, dist: str, version: str, modules: dict[str, str],
              entry_points: dict[str, str]) -> Path:
    """Write `modules` (package name -> `__init__.py` source) and `<dist>-<version>.dist-info` under `root`.

    `entry_points` maps plugin name -> `module:attr` in the group `orbitchat.plugins`.
    """
    root.mkdir(parents=True, exist_ok=True)
    for package, source in modules.items():
        pkg = root / package
        pkg.mkdir(exist_ok=True)
        (pkg / "__init__.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = ["[orbitchat.plugins]"] + [f"{name} = {target}" for name, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return root
