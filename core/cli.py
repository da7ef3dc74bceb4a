"""`orbitchat` command line: serve, lock."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from core import lock as lockfile
from core.config import Config
from core.plugins import LockDrift
from core.version import VERSION


def _services(value: str) -> tuple[str, ...] | None:
    if value in ("", "all"):
        return None
    return tuple(s.strip() for s in value.split(",") if s.strip())


def cmd_serve(args: argparse.Namespace) -> int:
    from core import storage
    from core.app import create_app, kernel_of
    from core.server import run, settle_heap

    config = Config.from_env(host=args.host, port=args.port, data_dir=Path(args.data_dir),
                             services=_services(args.services), lock_path=Path(args.lock),
                             strict_lock=args.strict_lock)
    try:
        app = create_app(config)
    except LockDrift as exc:
        print(f"orbitchat: refusing to start: {exc}", file=sys.stderr)
        return 2
    except (LookupError, RuntimeError) as exc:
        print(f"orbitchat: {exc}", file=sys.stderr)
        return 2
    kernel = kernel_of(app)
    for line in kernel.selection.report:
        print(f"orbitchat: warning: {line}", file=sys.stderr)

    @app.before_serving
    async def _announce() -> None:
        db = "embedded SecantusDB at " + str(config.data_dir / "db") if kernel.embedded else \
            "MongoDB " + storage.describe(kernel.db_url)
        print(f"OrbitChat {VERSION} listening on http://{config.host}:{config.port}", flush=True)
        print(f"  database: {db} (db {config.db_name})", flush=True)
        print(f"  plugins:  {', '.join(kernel.plugin_names) or '(none)'}", flush=True)
        settle_heap()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(app, config, stop)

    try:
        asyncio.run(main())
    except Exception as exc:   # start-up failed: one clear line, not a traceback
        chain, cause = [], exc
        while cause is not None and len(chain) < 5:
            if str(cause) and str(cause) not in chain:
                chain.append(str(cause))
            cause = cause.__cause__ or cause.__context__
        print(f"orbitchat: start-up failed: {': '.join(chain) or type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        if kernel.embedded is not None:   # start-up failed half-way: never leave the database behind
            kernel.embedded.stop()
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    path = Path(args.lock)
    installed = lockfile.discover()
    previous = lockfile.read(path)
    lock = lockfile.build(installed, previous)
    lockfile.write(path, lock)
    print(f"wrote {path}: {len(lock.plugins)} plugins, {len(lock.apps)} apps")
    if args.check and previous is not None and lockfile.drift(previous, installed):
        return 1
    return 0


def cmd_check_lock(args: argparse.Namespace) -> int:
    path = Path(args.lock)
    previous = lockfile.read(path)
    if previous is None:
        print(f"no lock at {path}")
        return 1
    problems = lockfile.drift(previous, lockfile.discover())
    for p in problems:
        print(p)
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="orbitchat", description="OrbitChat team-chat server")
    p.add_argument("--version", action="version", version=f"orbitchat {VERSION}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=3000)
    s.add_argument("--data-dir", default="./data")
    s.add_argument("--services", default="all", help="all, or a comma-separated list of plugin names")
    s.add_argument("--lock", default="plugin.lock")
    s.add_argument("--strict-lock", action="store_true", help="refuse to start when plugin.lock has drifted")
    s.set_defaults(func=cmd_serve)
    lk = sub.add_parser("lock", help="write plugin.lock for the installed plugins")
    lk.add_argument("--lock", default="plugin.lock")
    lk.add_argument("--check", action="store_true", help="exit 1 if the previous lock had drifted")
    lk.set_defaults(func=cmd_lock)
    ck = sub.add_parser("check-lock", help="report drift between plugin.lock and the installed plugins")
    ck.add_argument("--lock", default="plugin.lock")
    ck.set_defaults(func=cmd_check_lock)
    from apps_sdk.cli import add_parser as add_app_parser
    add_app_parser(sub)   # orbitchat app new|package|deploy|watch|logs
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
