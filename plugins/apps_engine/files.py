"""App files on this machine: `<data_dir>/apps/<appId>/<versionDir>/` (the package, read-only), a sibling
`<versionDir>.sha256` marker, and `<data_dir>/apps/<appId>/data/` (the only place the app may write)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from plugins.apps_engine import package as pkg


class AppFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def app_dir(self, app_id: str) -> Path:
        return self.root / app_id

    def package_dir(self, record: dict[str, Any]) -> Path:
        return self.root / record["id"] / record["versionDir"]

    def data_dir(self, app_id: str) -> Path:
        return self.root / app_id / "data"

    def present(self, record: dict[str, Any]) -> bool:
        target = self.package_dir(record)
        marker = target.with_name(target.name + ".sha256")
        return target.is_dir() and marker.is_file() and marker.read_text() == record["packageHash"]

    def extract(self, package: pkg.Package, app_id: str, version_dir: str) -> Path:
        target = self.root / app_id / version_dir
        pkg.extract(package, target)
        target.with_name(version_dir + ".sha256").write_text(package.hash)
        return target

    async def ensure(self, record: dict[str, Any], fetch: Callable[[], Awaitable[bytes]],
                     limits: pkg.PackageLimits) -> Path:
        """The record's package files, fetched (and checked again) when this machine lacks them."""
        if self.present(record):
            return self.package_dir(record)
        data = await fetch()
        if pkg.package_hash(data) != record["packageHash"]:
            raise ValueError("the stored package does not match its hash")
        return self.extract(pkg.read_package(data, limits), record["id"], record["versionDir"])

    def remove_version(self, app_id: str, version_dir: str) -> None:
        target = self.root / app_id / version_dir
        pkg.remove_tree(target)
        target.with_name(version_dir + ".sha256").unlink(missing_ok=True)

    def prune(self, record: dict[str, Any]) -> None:
        """Remove versions other than the record's (after another process updated the app)."""
        root = self.app_dir(record["id"])
        for path in root.iterdir() if root.is_dir() else []:
            name = path.name.removesuffix(".sha256")
            if name not in (record["versionDir"], "data"):
                self.remove_version(record["id"], name)

    def remove_app(self, app_id: str) -> None:
        pkg.remove_tree(self.app_dir(app_id))
