"""The app manifest (`app.json`): its jsonschema, semantic checks, permissions and the API version.

`validate(data)` returns the manifest with defaults filled in (`nameSlug`, `implements`) or raises
`ManifestError` listing every problem, so an author sees them all at once.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from apps_sdk.app import APP_HOOKS

API_VERSION = "1.0.0"   # what apps_sdk offers; a manifest's requiredApiVersion must accept it

# Rocket.Chat's app permission names (Apps-Engine AppPermissions).
KNOWN_PERMISSIONS = frozenset({
    "user.read", "user.write", "upload.read", "upload.write", "email.send", "ui.interact", "ui.registerButtons",
    "server-setting.read", "server-setting.write", "room.read", "room.write", "role.read", "role.write",
    "message.read", "message.write", "moderation.read", "moderation.write", "threads.read",
    "livechat-status.read", "livechat-custom-fields.write", "livechat-visitor.read", "livechat-visitor.write",
    "livechat-message.read", "livechat-message.write", "livechat-message.multiple", "livechat-room.read",
    "livechat-room.write", "livechat-department.read", "livechat-department.write",
    "livechat-department.multiple", "env.read", "cloud.workspace-token", "scheduler", "networking",
    "persistence", "slashcommand", "video-conference.read", "video-conference.write",
    "video-conference-provider", "api", "oauth-app.read", "oauth-app.write",
})

# What an app gets when its manifest declares no `permissions` at all (Rocket.Chat's default set).
DEFAULT_PERMISSIONS = frozenset({
    "user.read", "user.write", "upload.read", "upload.write", "ui.interact", "server-setting.read",
    "server-setting.write", "room.read", "room.write", "message.read", "message.write",
    "livechat-department.read", "livechat-department.write", "livechat-room.read", "livechat-room.write",
    "livechat-message.read", "livechat-message.write", "livechat-visitor.read", "livechat-visitor.write",
    "livechat-status.read", "livechat-custom-fields.write", "scheduler", "networking", "persistence",
    "env.read", "slashcommand", "video-conference-provider", "video-conference.read",
    "video-conference.write", "api",
})

SCHEMA_PATH = Path(__file__).with_name("app.schema.json")


class ManifestError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid app.json: " + "; ".join(problems))
        self.problems = problems


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = "app-" + slug
    return (slug + "---")[:max(3, len(slug))][:64]


def validate(data: Any, api_version: str = API_VERSION) -> dict[str, Any]:
    """Check a parsed app.json; return it with defaults filled in."""
    if not isinstance(data, dict):
        raise ManifestError(["app.json must hold a JSON object"])
    problems = []
    for err in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        problems.append(f"{where}: {err.message}")
    if problems:
        raise ManifestError(problems)
    for i, perm in enumerate(data.get("permissions", [])):
        if perm["name"] not in KNOWN_PERMISSIONS:
            problems.append(f"permissions/{i}: unknown permission {perm['name']!r}")
    for hook in data.get("implements", []):
        if hook not in APP_HOOKS:
            problems.append(f"implements: {hook!r} is not an app hook")
    try:
        if not satisfies(api_version, data["requiredApiVersion"]):
            problems.append(f"requiredApiVersion {data['requiredApiVersion']!r} is not satisfied by the "
                            f"server's app API {api_version}")
    except ValueError as exc:
        problems.append(f"requiredApiVersion: {exc}")
    if problems:
        raise ManifestError(problems)
    out = dict(data)
    out.setdefault("nameSlug", slugify(data["name"]))
    out.setdefault("implements", [])
    out.setdefault("description", "")
    return out


def permissions(manifest: dict[str, Any]) -> frozenset[str]:
    """The permission names an app holds: those declared, or the default set when none are declared."""
    if "permissions" not in manifest:
        return DEFAULT_PERMISSIONS
    return frozenset(p["name"] for p in manifest["permissions"])


def network_domains(manifest: dict[str, Any]) -> list[str] | None:
    """Domains the `networking` permission is limited to; None means any public host."""
    for p in manifest.get("permissions", []):
        if p["name"] == "networking" and p.get("domains"):
            return [d.lower().lstrip(".") for d in p["domains"]]
    return None


# -- semver ranges: exact, =, >, >=, <, <=, ^, ~, x/* wildcards, space (and) and || (or) ---------------------
_VERSION = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def parse_version(text: str) -> tuple[int, int, int, tuple]:
    m = _VERSION.match(text.strip())
    if not m or any(p is not None and not p.isdigit() for p in m.groups()[:3]):
        raise ValueError(f"not a version: {text!r}")
    major, minor, patch = (int(p or 0) for p in m.groups()[:3])
    pre = tuple(int(x) if x.isdigit() else x for x in m.group(4).split(".")) if m.group(4) else ()
    return major, minor, patch, pre


def _key(v: tuple[int, int, int, tuple]) -> tuple:
    # A pre-release sorts before its release; numeric identifiers before alphanumeric ones.
    pre = v[3]
    return (v[0], v[1], v[2], 0 if pre else 1, tuple((0, x, "") if isinstance(x, int) else (1, 0, x) for x in pre))


def _comparators(token: str) -> list[tuple[str, tuple]]:
    m = re.match(r"^(\^|~|>=|<=|>|<|=)?\s*(.+)$", token)
    if not m:
        raise ValueError(f"bad range {token!r}")
    op, ver = m.group(1) or "", m.group(2)
    vm = _VERSION.match(ver)
    if not vm:
        raise ValueError(f"bad range {token!r}")
    parts = vm.groups()[:3]
    wild = [p is None or not p.isdigit() for p in parts]
    nums = [int(p) if p and p.isdigit() else 0 for p in parts]
    pre = parse_version(ver.replace("x", "0").replace("X", "0").replace("*", "0"))[3] if not any(wild) else ()
    low = (nums[0], nums[1], nums[2], pre)
    if wild[0]:
        return [] if op in ("", "=", ">=", "<=", "^", "~") else [("<", (0, 0, 0, ()))]
    if op in ("", "=") and any(wild):
        op = "~" if not wild[1] else "^"
    if op == "^":
        if nums[0] > 0 or wild[1]:
            high = (nums[0] + 1, 0, 0, ())
        elif nums[1] > 0 or wild[2]:
            high = (0, nums[1] + 1, 0, ())
        else:
            high = (0, 0, nums[2] + 1, ())
        return [(">=", low), ("<", high)]
    if op == "~":
        high = (nums[0] + 1, 0, 0, ()) if wild[1] else (nums[0], nums[1] + 1, 0, ())
        return [(">=", low), ("<", high)]
    return [(op or "=", low)]


def satisfies(version: str, spec: str) -> bool:
    """Does `version` fall in the npm-style range `spec` (e.g. `^1.0.0`, `>=1.2 <2`, `1.x || 2.x`)?"""
    v = _key(parse_version(version))
    for alternative in spec.split("||"):
        tokens = re.findall(r"(?:\^|~|>=|<=|>|<|=)?\s*[^\s]+", alternative.strip())
        if not tokens:
            raise ValueError(f"empty range in {spec!r}")
        ok = True
        for token in tokens:
            for op, bound in _comparators(token.strip()):
                b = _key(bound)
                ok = ok and {"=": v == b, ">": v > b, ">=": v >= b, "<": v < b, "<=": v <= b}[op]
        if ok:
            return True
    return False
