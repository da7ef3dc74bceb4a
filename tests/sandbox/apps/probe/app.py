"""An app that tries to break out of its sandbox; each probe reports what happened."""
import os

from apps_sdk import App, Configuration, Endpoint


def attempt(fn):
    try:
        return {"escaped": True, "detail": repr(fn())[:300]}
    except BaseException as exc:  # noqa: BLE001 - the probe reports every failure
        return {"escaped": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}


def read_file(path):
    with open(path, "rb") as f:
        return f.read(64)


def write_file(path):
    with open(path, "w") as f:
        f.write("escaped")
    return path


def connect(port):
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.close()
    return "connected"


def spawn(marker):
    import subprocess
    return subprocess.run(["/bin/sh", "-c", f"echo x > {marker}"], check=True).returncode


def libc_call(what, arg):
    import ctypes
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if what == "socket":
        rc = libc.syscall(41, 2, 1, 0)          # socket(AF_INET, SOCK_STREAM, 0)
    elif what == "fork":
        rc = libc.syscall(57)                   # fork()
    elif what == "kill":
        rc = libc.kill(int(arg), 0)
    elif what == "ptrace":
        rc = libc.ptrace(16, int(arg), 0, 0)    # PTRACE_ATTACH
    else:
        raise ValueError(what)
    if rc == -1:
        raise OSError(ctypes.get_errno(), f"libc {what} refused")
    return rc


class Probe(App):
    def extend_configuration(self, config: Configuration) -> None:
        config.endpoint(Endpoint("probe", self.probe, methods=("POST",)))

    async def probe(self, request):
        q = request.get("content") or {}
        name, arg = q.get("name"), q.get("arg")
        if name == "spin":
            while True:
                pass
        probes = {
            "read": lambda: read_file(arg),
            "listdir": lambda: os.listdir(arg),
            "write": lambda: write_file(arg),
            "environ": lambda: {k: v for k, v in os.environ.items() if arg in k} or (_ for _ in ()).throw(
                KeyError("no such variable")),
            "connect": lambda: connect(int(arg)),
            "spawn": lambda: spawn(arg),
            "fork": lambda: os.fork(),
            "libc": lambda: libc_call(*arg),
            "kill": lambda: os.kill(int(arg), 9),
            "alloc": lambda: len(bytearray(int(arg))),
            "setuid": lambda: os.setuid(0) or os.getuid(),
            "chmod": lambda: os.chmod(arg, 0o777),
            "symlink_write": lambda: (os.symlink(arg, "link-out"), write_file("link-out")),
        }
        if name == "accessor":
            try:
                return {"status": 200, "content": {"escaped": True, "detail": repr(await self.http.get(arg))}}
            except Exception as exc:  # noqa: BLE001
                return {"status": 200, "content": {"escaped": False, "detail": str(exc)}}
        if name == "persist":
            rid = await self.persistence.create({"n": arg})
            return {"status": 200, "content": {"id": rid}}
        return {"status": 200, "content": attempt(probes[name])}
