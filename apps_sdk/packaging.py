"""App packages from a source directory: `app.json` checked with the SDK's schema, the files zipped in a fixed
order with fixed timestamps and modes, so the same sources always give the same bytes (and package hash)."""
from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps_sdk import manifest as manifest_mod

# Left out of a package: tests, build output, development settings, caches and anything hidden (the server
# skips hidden files too).
TOP_LEVEL_EXCLUDED = {"tests", "test", "dist", "conftest.py", "pyproject.toml", "setup.cfg", "pytest.ini",
                      "tox.ini", "requirements-dev.txt"}
EXCLUDED_DIRS = {"__pycache__", "node_modules", "venv"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".zip")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16       # a regular file, rw-r--r--
SERVER_DEFAULT_LIMIT = 10 * 1024 * 1024


class PackagingError(ValueError):
    """The directory cannot be packaged; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class BuiltPackage:
    manifest: dict[str, Any]
    files: list[str]
    data: bytes

    @property
    def default_name(self) -> str:
        return f"{self.manifest['nameSlug']}_{self.manifest['version']}.zip"


def load_manifest(app_dir: Path) -> dict[str, Any]:
    """The validated manifest of `app_dir` (defaults filled in), or PackagingError."""
    path = Path(app_dir) / "app.json"
    if not path.is_file():
        raise PackagingError([f"{path}: not found (is {app_dir} an app directory?)"])
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackagingError([f"app.json is not valid JSON: {exc}"]) from None
    try:
        return manifest_mod.validate(data)
    except manifest_mod.ManifestError as exc:
        raise PackagingError([f"app.json: {p}" for p in exc.problems]) from None


def package_files(app_dir: Path) -> list[str]:
    """Relative POSIX paths of the files that go into the package, sorted."""
    root = Path(app_dir)
    found: list[str] = []
    problems: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        top = here == root
        kept = sorted(d for d in dirnames if not _excluded_dir(d, top))
        links = [d for d in kept if (here / d).is_symlink()]
        dirnames[:] = [d for d in kept if d not in links]
        names = [n for n in sorted(filenames) if not _excluded_file(n, top)]
        for name in links + names:
            path = here / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                problems.append(f"{rel}: symbolic links cannot be packaged")
            elif path.is_file():
                found.append(rel)
    if problems:
        raise PackagingError(problems)
    return sorted(found)


def _excluded_dir(name: str, top: bool) -> bool:
    return name.startswith(".") or name in EXCLUDED_DIRS or (top and name in TOP_LEVEL_EXCLUDED)


def _excluded_file(name: str, top: bool) -> bool:
    return name.startswith(".") or name.endswith(EXCLUDED_SUFFIXES) or (top and name in TOP_LEVEL_EXCLUDED)


def check(app_dir: Path, manifest: dict[str, Any], files: list[str]) -> None:
    """What the server would refuse at install time, found before uploading."""
    root = Path(app_dir)
    problems = []
    if manifest["classFile"] not in files:
        problems.append(f"classFile {manifest['classFile']!r} is not in the package")
    if manifest.get("iconFile") and manifest["iconFile"] not in files:
        problems.append(f"iconFile {manifest['iconFile']!r} is not in the package")
    for rel in files:
        if rel.endswith(".py"):
            source = (root / rel).read_bytes()
            try:
                compile(source, rel, "exec", dont_inherit=True)
            except SyntaxError as exc:
                problems.append(f"{rel}:{exc.lineno}: {exc.msg}")
    if problems:
        raise PackagingError(problems)


def build(app_dir: Path | str) -> BuiltPackage:
    """Validate `app_dir` and zip it in memory."""
    root = Path(app_dir)
    manifest = load_manifest(root)
    files = package_files(root)
    check(root, manifest, files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel in files:
            info = zipfile.ZipInfo(rel, date_time=ZIP_EPOCH)
            info.external_attr = FILE_MODE
            info.create_system = 3
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (root / rel).read_bytes(), compresslevel=9)
    return BuiltPackage(manifest, files, buf.getvalue())


def write(app_dir: Path | str, output: Path | str | None = None) -> tuple[Path, BuiltPackage]:
    """Build and write the zip (default `<app_dir>/dist/<nameSlug>_<version>.zip`); returns its path."""
    built = build(app_dir)
    target = Path(output) if output else Path(app_dir) / "dist" / built.default_name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(built.data)
    os.replace(tmp, target)
    return target, built


def read_zip_manifest(data: bytes) -> dict[str, Any]:
    """The validated manifest inside an already built zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            raw = zf.read("app.json")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise PackagingError([f"not an app package: {exc}"]) from None
    try:
        return manifest_mod.validate(json.loads(raw.decode("utf-8-sig")))
    except ValueError as exc:
        problems = exc.problems if isinstance(exc, manifest_mod.ManifestError) else [str(exc)]
        raise PackagingError([f"app.json: {p}" for p in problems]) from None
