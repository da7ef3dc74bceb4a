"""`orbitchat app new|package|deploy|watch|logs`: write, package and ship an app to a running server."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from apps_sdk import packaging
from apps_sdk.scaffold import ScaffoldError, new_app

ENABLED = ("manually_enabled", "auto_enabled")


class CliError(Exception):
    """A failure reported as one `orbitchat: error: ...` line (plus details), exit status 1."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


def say(*parts: Any) -> None:
    print(*parts, flush=True)


# -- talking to a server ------------------------------------------------------------------------------------
class Remote:
    """The server's `/api/apps` REST API, authenticated as an admin (password login or a personal token)."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float = 60.0) -> None:
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    @classmethod
    def connect(cls, args: argparse.Namespace) -> Remote:
        if args.token and args.user_id:
            return cls(args.url, {"X-User-Id": args.user_id, "X-Auth-Token": args.token})
        if not (args.user and args.password):
            raise CliError("give --user and --password, or --token and --user-id "
                           "(or ORBITCHAT_USER/ORBITCHAT_PASSWORD, ORBITCHAT_TOKEN/ORBITCHAT_USER_ID)")
        remote = cls(args.url, {})
        data = remote.call("POST", "/api/v1/login", json={"user": args.user, "password": args.password})["data"]
        remote.http.headers.update({"X-User-Id": data["userId"], "X-Auth-Token": data["authToken"]})
        return remote

    def call(self, method: str, path: str, *, allow: tuple[int, ...] = (), **kw: Any) -> dict:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach {self.http.base_url}: {exc}") from None
        if r.status_code in allow:
            return {"status": r.status_code}
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code != 200 or body.get("success") is False:
            problems = (body.get("details") or {}).get("problems") or []
            raise CliError(f"{method} {path}: HTTP {r.status_code}: {body.get('error') or r.text[:200]}",
                           [str(p) for p in problems])
        return body

    def deploy(self, data: bytes, app_id: str) -> tuple[str, dict]:
        """Install, or update when the server already has the app; returns (what was done, the app)."""
        exists = "app" in self.call("GET", f"/api/apps/{app_id}", allow=(404,))
        files = {"app": ("app.zip", data, "application/zip")}
        path = f"/api/apps/{app_id}" if exists else "/api/apps"
        return ("updated" if exists else "installed"), self.call("POST", path, files=files)["app"]

    def logs(self, app_id: str, count: int) -> list[dict]:
        return self.call("GET", f"/api/apps/{app_id}/logs", params={"count": count})["logs"]


def _source(path: Path) -> tuple[bytes, dict]:
    if path.is_dir():
        built = packaging.build(path)
        return built.data, built.manifest
    if not path.is_file():
        raise CliError(f"{path}: no such app directory or package")
    data = path.read_bytes()
    return data, packaging.read_zip_manifest(data)


def _deploy_once(remote: Remote, path: Path) -> bool:
    data, manifest = _source(path)
    action, app = remote.deploy(data, manifest["id"])
    say(f"{action} {app.get('name', manifest['name'])} {app.get('version', manifest['version'])} "
        f"({app['id']}): {app['status']}")
    if app["status"] not in ENABLED:
        say(f"  the app did not start; see: orbitchat app logs {app['id']}")
        return False
    return True


# -- commands ---------------------------------------------------------------------------------------------
def cmd_new(args: argparse.Namespace) -> int:
    try:
        manifest = new_app(Path(args.dir), args.name, args.author)
    except ScaffoldError as exc:
        raise CliError(str(exc)) from None
    say(f"created {manifest['name']} ({manifest['id']}) in {args.dir}: app.json, app.py, tests/test_app.py")
    say(f"  next: cd {args.dir} && pytest && orbitchat app deploy . --url ... --user ... --password ...")
    return 0


def cmd_package(args: argparse.Namespace) -> int:
    target, built = packaging.write(Path(args.dir), args.output)
    say(f"packaged {built.manifest['name']} {built.manifest['version']}: {target} "
        f"({len(built.files)} files, {len(built.data)} bytes)")
    if len(built.data) > packaging.SERVER_DEFAULT_LIMIT:
        say("  warning: larger than a server's default package limit (Apps_Package_Max_Size_MB, 10 MB)")
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    return 0 if _deploy_once(Remote.connect(args), Path(args.source)) else 1


def _snapshot(path: Path) -> dict[str, tuple[int, int]]:
    """What a redeploy depends on: each packaged file's mtime and size."""
    out = {}
    try:
        names = packaging.package_files(path)
    except packaging.PackagingError:
        names = []
    for rel in names + ["app.json"]:
        try:
            st = (path / rel).stat()
        except OSError:
            continue
        out[rel] = (st.st_mtime_ns, st.st_size)
    return out


def cmd_watch(args: argparse.Namespace) -> int:
    path = Path(args.dir)
    if not path.is_dir():
        raise CliError(f"{path} is not an app directory")
    remote = Remote.connect(args)
    last: bytes | None = None
    try:
        say(f"watching {path} (Ctrl-C stops)")
        snapshot = _snapshot(path)
        while True:
            data = _redeploy(remote, path, last)
            last = data if data is not None else last
            snapshot = _wait_for_change(path, snapshot, args.interval, args.debounce)
    except KeyboardInterrupt:
        say("watch stopped")
        return 0


def _redeploy(remote: Remote, path: Path, last: bytes | None) -> bytes | None:
    stamp = datetime.now().strftime("%H:%M:%S")
    try:
        data, manifest = _source(path)
        if data == last:
            say(f"[{stamp}] unchanged package; nothing to deploy")
            return data
        action, app = remote.deploy(data, manifest["id"])
    except (CliError, packaging.PackagingError) as exc:
        headline, lines = _explain(exc)
        say(f"[{stamp}] deploy failed: {headline}")
        for line in lines:
            say(f"  {line}")
        return None
    say(f"[{stamp}] {action} {manifest['name']} {manifest['version']} ({app['id']}): {app['status']}")
    return data


def _wait_for_change(path: Path, snapshot: dict, interval: float, debounce: float) -> dict:
    """Block until the files change and then stay quiet for `debounce` seconds; the new snapshot."""
    while True:
        time.sleep(interval)
        current = _snapshot(path)
        if current == snapshot:
            continue
        while True:
            time.sleep(debounce)
            settled = _snapshot(path)
            if settled == current:
                return settled
            current = settled


def _format_entry(doc: dict, entry: dict) -> str:
    args = " ".join(str(a) for a in entry.get("args") or [])
    return f"{entry.get('timestamp', '')} {entry.get('severity', 'info'):<7} {doc.get('method')}: {args}"


def cmd_logs(args: argparse.Namespace) -> int:
    remote = Remote.connect(args)
    seen: set[str] = set()
    try:
        while True:
            docs = remote.logs(args.app_id, args.count)
            for doc in reversed(docs):        # the server answers newest first
                if doc["_id"] not in seen:
                    seen.add(doc["_id"])
                    for entry in doc.get("entries") or []:
                        say(_format_entry(doc, entry))
            if not args.follow:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


# -- argparse -----------------------------------------------------------------------------------------------
def _server_options(p: argparse.ArgumentParser) -> None:
    env = os.environ.get
    p.add_argument("--url", default=env("ORBITCHAT_URL", "http://127.0.0.1:3000"), help="server URL")
    p.add_argument("--user", default=env("ORBITCHAT_USER"), help="admin username or email")
    p.add_argument("--password", default=env("ORBITCHAT_PASSWORD"))
    p.add_argument("--token", default=env("ORBITCHAT_TOKEN"), help="personal access token (with --user-id)")
    p.add_argument("--user-id", default=env("ORBITCHAT_USER_ID"))


def add_parser(sub: Any) -> None:
    """Add `app` and its subcommands to the `orbitchat` parser."""
    app = sub.add_parser("app", help="create, package, deploy and watch apps")
    cmds = app.add_subparsers(dest="app_command", required=True)
    p = cmds.add_parser("new", help="scaffold an app: app.json (fresh id), app.py, tests/test_app.py")
    p.add_argument("dir")
    p.add_argument("--name", help="display name (default: from the directory name)")
    p.add_argument("--author", help="author name (default: the current user)")
    p.set_defaults(func=_run(cmd_new))
    p = cmds.add_parser("package", help="validate app.json and zip the app (no tests, caches, .git)")
    p.add_argument("dir")
    p.add_argument("-o", "--output", help="zip to write (default: <dir>/dist/<slug>_<version>.zip)")
    p.set_defaults(func=_run(cmd_package))
    p = cmds.add_parser("deploy", help="install the app, or update it if the server has it")
    p.add_argument("source", help="app directory or package zip")
    _server_options(p)
    p.set_defaults(func=_run(cmd_deploy))
    p = cmds.add_parser("watch", help="redeploy on every change of the app's files")
    p.add_argument("dir")
    _server_options(p)
    p.add_argument("--interval", type=float, default=0.5, help="seconds between checks")
    p.add_argument("--debounce", type=float, default=0.3, help="quiet seconds before a redeploy")
    p.set_defaults(func=_run(cmd_watch))
    p = cmds.add_parser("logs", help="print an app's logs")
    p.add_argument("app_id")
    _server_options(p)
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new entries")
    p.add_argument("--count", type=int, default=50, help="log documents to read each time")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between reads with --follow")
    p.set_defaults(func=_run(cmd_logs))


def _run(command: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        logging.getLogger("httpx").setLevel(logging.WARNING)   # no line per request
        try:
            return command(args)
        except (CliError, packaging.PackagingError) as exc:
            headline, lines = _explain(exc)
            print(f"orbitchat: error: {headline}", file=sys.stderr)
            for line in lines:
                print(f"  {line}", file=sys.stderr)
            return 1
    return run


def _explain(exc: CliError | packaging.PackagingError) -> tuple[str, list[str]]:
    if isinstance(exc, packaging.PackagingError):
        return "cannot package the app", exc.problems
    return str(exc), exc.details
