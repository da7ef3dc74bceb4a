"""App packages: read and check an uploaded zip, extract it read-only into the app's directory.

Everything here distrusts the zip: sizes declared in its directory are checked and then enforced again while
decompressing (a zip bomb lies about them), names are refused when absolute, when they climb out (`..`), when
they are links or devices, and when two of them collide.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps_sdk import manifest as manifest_mod

MB = 1024 * 1024
ICON_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
              ".svg": "image/svg+xml"}
MAX_ICON = 512 * 1024
_SKIP_PARTS = {"__pycache__", "__MACOSX"}


class PackageError(ValueError):
    """The package is refused; `problems` lists why (shown to the installer)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


@dataclass(frozen=True)
class PackageLimits:
    max_compressed: int = 10 * MB
    max_uncompressed: int = 50 * MB
    max_files: int = 2000


@dataclass
class Package:
    manifest: dict[str, Any]
    files: dict[str, bytes]
    hash: str
    size: int
    icon: tuple[str, bytes] | None = None        # (content type, bytes)
    raw: bytes = field(repr=False, default=b"")


def package_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _safe_name(info: zipfile.ZipInfo) -> str | None:
    """The entry's normalised relative path, None for entries we skip, PackageError for hostile ones."""
    name = info.filename
    if "\\" in name or "\0" in name:
        raise PackageError(f"illegal character in entry name {name!r}")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise PackageError(f"absolute path in package: {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise PackageError(f"path escapes the package: {name!r}")
    mode = info.external_attr >> 16
    if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        kind = "symbolic link" if stat.S_ISLNK(mode) else "special file"
        raise PackageError(f"{kind} in package: {name!r}")
    if info.is_dir() or not parts:
        return None
    if any(p.startswith(".") or p in _SKIP_PARTS for p in parts) or parts[-1].endswith((".pyc", ".pyo")):
        return None
    return posixpath.join(*parts)


def read_package(data: bytes, limits: PackageLimits, api_version: str = manifest_mod.API_VERSION) -> Package:
    """Parse and check an app zip held in memory."""
    if len(data) > limits.max_compressed:
        raise PackageError(f"package is {len(data)} bytes; the limit is {limits.max_compressed}")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise PackageError(f"not a zip file: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_files:
            raise PackageError(f"package has {len(infos)} entries; the limit is {limits.max_files}")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_uncompressed:
            raise PackageError(f"package expands to {declared} bytes; the limit is {limits.max_uncompressed}")
        files: dict[str, bytes] = {}
        seen_lower: set[str] = set()
        budget = limits.max_uncompressed
        for info in infos:
            name = _safe_name(info)
            if name is None:
                continue
            if name.lower() in seen_lower:
                raise PackageError(f"duplicate entry in package: {name!r}")
            seen_lower.add(name.lower())
            content = _read_entry(zf, info, budget)
            budget -= len(content)
            files[name] = content
    manifest = _manifest(files, api_version)
    return Package(manifest=manifest, files=files, hash=package_hash(data), size=len(data),
                   icon=_icon(manifest, files), raw=data)


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    try:
        with zf.open(info) as f:
            content = f.read(min(budget, info.file_size) + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise PackageError(f"cannot read {info.filename!r}: {exc}") from None
    if len(content) > info.file_size or len(content) > budget:
        raise PackageError("package expands beyond its declared or allowed size")
    return content


def _manifest(files: dict[str, bytes], api_version: str) -> dict[str, Any]:
    raw = files.get("app.json")
    if raw is None:
        raise PackageError("app.json is missing from the root of the package")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackageError(f"app.json is not valid JSON: {exc}") from None
    try:
        manifest = manifest_mod.validate(data, api_version)
    except manifest_mod.ManifestError as exc:
        raise PackageError(str(exc), exc.problems) from None
    if manifest["classFile"] not in files:
        raise PackageError(f"classFile {manifest['classFile']!r} is not in the package")
    if manifest.get("iconFile") and manifest["iconFile"] not in files:
        raise PackageError(f"iconFile {manifest['iconFile']!r} is not in the package")
    return manifest


def _icon(manifest: dict[str, Any], files: dict[str, bytes]) -> tuple[str, bytes] | None:
    name = manifest.get("iconFile")
    if not name:
        return None
    content = files[name]
    if len(content) > MAX_ICON:
        raise PackageError(f"iconFile is larger than {MAX_ICON} bytes")
    return ICON_TYPES[Path(name).suffix.lower()], content


def extract(package: Package, target: Path) -> None:
    """Write the files into `target` (created atomically through a sibling temporary directory) and make the
    tree read-only: the app reads its code there and writes only into its data directory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        for name, content in package.files.items():
            path = tmp.joinpath(*name.split("/"))
            if tmp.resolve() not in path.resolve().parents:   # belt and braces: names are checked already
                raise PackageError(f"path escapes the package: {name!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            os.chmod(path, 0o444)
        for root, dirs, _ in os.walk(tmp):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o555)
        os.chmod(tmp, 0o555)
        if target.exists():
            remove_tree(target)
        os.rename(tmp, target)
    except BaseException:
        remove_tree(tmp)
        raise


def remove_tree(path: Path) -> None:
    """rmtree for our read-only trees (directories need write permission to be emptied)."""
    if not path.exists():
        return
    for root, dirs, _ in os.walk(path):
        os.chmod(root, 0o755)
        for d in dirs:
            try:
                os.chmod(os.path.join(root, d), 0o755)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)
