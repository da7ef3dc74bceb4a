"""Package and manifest checks: hostile zips and bad manifests are refused, through REST with a 400."""
from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest

from apps_sdk import manifest as manifest_mod
from plugins.apps_engine.package import PackageError, PackageLimits, read_package
from tests.plugins.apps_engine.conftest import APPS, build_zip

LIMITS = PackageLimits()


def raw_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def base_entries() -> list[tuple[str, bytes]]:
    return [("app.json", (APPS / "crasher" / "app.json").read_bytes()), ("app.py", (APPS / "crasher" / "app.py").read_bytes())]


def symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize("entry, why", [
    (("../evil.py", b"x"), "escapes"),
    (("lib/../../evil.py", b"x"), "escapes"),
    (("/etc/cron.d/evil", b"x"), "absolute"),
    (("C:/evil.py", b"x"), "absolute"),
    (("lib\\..\\evil.py", b"x"), "illegal character"),
    ((symlink("link.py", "/etc/passwd"), b"/etc/passwd"), "symbolic link"),
    (("APP.PY", b"x"), "duplicate"),
])
def test_hostile_entries_are_refused(entry, why):
    with pytest.raises(PackageError, match=why):
        read_package(raw_zip(base_entries() + [entry]), LIMITS)


def test_limits():
    with pytest.raises(PackageError, match="entries"):
        read_package(raw_zip(base_entries() + [(f"f{i}.txt", b"") for i in range(5)]), PackageLimits(max_files=6))
    bomb = raw_zip(base_entries() + [("zeros.bin", b"\0" * (3 * 1024 * 1024))])
    assert len(bomb) < 100_000
    with pytest.raises(PackageError, match="expands"):
        read_package(bomb, PackageLimits(max_uncompressed=2 * 1024 * 1024))
    with pytest.raises(PackageError, match="limit"):
        read_package(bomb, PackageLimits(max_compressed=1000))


def test_lying_sizes_are_caught_while_reading():
    data = bytearray(raw_zip(base_entries() + [("zeros.bin", b"\0" * 100_000)]))
    # the central directory claims zeros.bin is 10 bytes: decompression must not trust it
    cd = data.find(b"PK\x01\x02")
    while data[cd + 46:cd + 46 + 9] != b"zeros.bin":
        cd = data.find(b"PK\x01\x02", cd + 4)
        assert cd > 0
    data[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    with pytest.raises(PackageError):
        read_package(bytes(data), LIMITS)


def test_skipped_entries_and_good_package():
    pkg = read_package(raw_zip(base_entries() + [("__pycache__/app.cpython-311.pyc", b"x"), (".git/config", b"x"),
                                                  ("lib/", b""), ("lib/util.py", b"X = 1")]), LIMITS)
    assert sorted(pkg.files) == ["app.json", "app.py", "lib/util.py"]
    assert pkg.manifest["nameSlug"] == "crasher" and pkg.hash.startswith("sha256:")


@pytest.mark.parametrize("change, why", [
    ({"id": "../x"}, "id"), ({"version": "1.0"}, "version"), ({"classFile": "../app.py"}, "classFile"),
    ({"implements": ["drop_database"]}, "not an app hook"), ({"permissions": [{"name": "root"}]}, "unknown permission"),
    ({"requiredApiVersion": "^2.0.0"}, "not satisfied"), ({"requiredApiVersion": "banana"}, "requiredApiVersion"),
    ({"author": {}}, "name"), ({"extra": 1}, "Additional properties"), ({"classFile": "missing.py"}, "not in the package"),
])
def test_bad_manifests(change, why):
    data = json.loads((APPS / "crasher" / "app.json").read_text())
    entries = [("app.json", json.dumps({**data, **change}).encode()), ("app.py", b"")]
    with pytest.raises(PackageError, match=why):
        read_package(raw_zip(entries), LIMITS)


def test_manifest_rules():
    with pytest.raises(manifest_mod.ManifestError):
        manifest_mod.validate([])
    assert manifest_mod.permissions({"id": "x"}) == manifest_mod.DEFAULT_PERMISSIONS
    assert manifest_mod.permissions({"permissions": []}) == frozenset()
    assert manifest_mod.network_domains({"permissions": [{"name": "networking", "domains": [".Example.org"]}]}) == [
        "example.org"]
    assert manifest_mod.slugify("My Great App!") == "my-great-app"


@pytest.mark.parametrize("version, spec, ok", [
    ("1.0.0", "^1.0.0", True), ("1.9.3", "^1.2", True), ("2.0.0", "^1.0.0", False), ("0.2.5", "^0.2.1", True),
    ("0.3.0", "^0.2.1", False), ("1.2.9", "~1.2.3", True), ("1.3.0", "~1.2.3", False), ("1.5.0", ">=1.2 <2", True),
    ("2.1.0", ">=1.2 <2", False), ("2.1.0", "1.x || 2.x", True), ("1.0.0", "*", True), ("1.0.0-beta.1", ">=1.0.0", False),
    ("1.0.0", "=1.0.0", True), ("1.0.1", "1.0.0", False),
])
def test_semver_ranges(version, spec, ok):
    assert manifest_mod.satisfies(version, spec) is ok


async def test_invalid_packages_are_400_over_rest(world):
    admin = world.admin
    cases = {
        "zip-slip": raw_zip(base_entries() + [("../../evil.py", b"import os")]),
        "absolute": raw_zip(base_entries() + [("/tmp/evil.py", b"x")]),
        "symlink": raw_zip(base_entries() + [(symlink("x.py", "/etc/passwd"), b"/etc/passwd")]),
        "bad manifest": build_zip("crasher", manifest={"version": "one"}),
        "missing manifest": build_zip("crasher", drop=("app.json",)),
        "not a zip": b"this is not a zip file",
        "oversize": raw_zip(base_entries() + [("zeros.bin", b"\0" * (51 * 1024 * 1024))]),
        "api version": build_zip("crasher", manifest={"requiredApiVersion": ">=9.0.0"}),
    }
    for name, data in cases.items():
        r = await admin.install(data)
        assert r.status_code == 400, (name, r.text)
        assert r.json()["errorType"] == "error-invalid-app-package", (name, r.text)
    assert (await admin.ok("GET", "/api/apps"))["apps"] == []
    assert not (world.srv.kernel.api.data_dir / "apps").exists() or not any(
        (world.srv.kernel.api.data_dir / "apps").iterdir())
    missing = await admin.request("POST", "/api/apps", json={})
    assert missing.status_code == 400 and missing.json()["errorType"] == "error-app-package-missing"
    injected = await admin.request("POST", "/api/apps", json={"url": {"$ne": None}})
    assert injected.status_code == 400
