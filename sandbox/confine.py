"""Operating-system confinement of an app process, applied by the process to itself before any app code runs.

The boundary is the kernel, not Python: resource limits (setrlimit), no network (a fresh network namespace),
an unprivileged per-app uid when started as root, filesystem confinement (Landlock: read-only Python and the
app package, read-write only the app's data directory) and a seccomp filter (no fork/exec, no sockets, no
ptrace or namespace games, signals only to itself). Nothing done inside the process afterwards can lift any of
these. Each mechanism reports whether it is active; the host refuses an unconfined app unless an admin allows it.
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import sysconfig
from pathlib import Path
from typing import Any

# Loaded before confinement: once Landlock is on, their shared libraries could no longer be opened.
try:
    import pyseccomp as _sc
except Exception:  # reported as "seccomp: off"
    _sc = None
try:
    from landlock import Ruleset as _Ruleset
    from landlock.plumbing import FSAccess as _FS
except Exception:
    _Ruleset = _FS = None

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_THREAD = 0x00010000
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
MB = 1024 * 1024

# Denied outright (EPERM). clone without CLONE_THREAD (a new process) is handled separately. socketpair stays
# allowed: it only makes a connected pair inside the process (asyncio needs one).
DENIED_SYSCALLS = (
    "fork", "vfork", "execve", "execveat", "socket", "ptrace", "process_vm_readv",
    "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "bpf",
    "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "keyctl", "add_key", "request_key", "userfaultfd", "io_uring_setup", "open_by_handle_at",
    "name_to_handle_at", "mknod", "mknodat", "setuid", "setgid", "setreuid", "setregid", "setresuid",
    "setresgid", "setgroups", "personality", "acct", "swapon", "swapoff", "reboot", "sethostname",
    "setdomainname", "iopl", "ioperm", "quotactl", "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
    "move_pages", "migrate_pages", "mbind", "set_mempolicy",
    # Metadata changes Landlock does not cover (an app left as uid 0 without capabilities still owns
    # root's files): no chmod/chown/xattr/timestamps anywhere.
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "utime", "utimes", "futimesat", "utimensat",
)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _limits(limits: dict[str, Any]) -> None:
    mem = int(limits.get("memory_mb", 256)) * MB
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    cpu = int(limits.get("cpu_seconds", 600))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    files = int(limits.get("open_files", 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))
    fsize = int(limits.get("file_size_mb", 64)) * MB
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _no_network(is_root: bool) -> None:
    flags = CLONE_NEWNET if is_root else CLONE_NEWUSER | CLONE_NEWNET
    if _libc().unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), "unshare(network namespace) failed")


def _drop_privileges(uid: int | None) -> str:
    """Switch to the app's own unprivileged uid; where the interpreter lives somewhere only root can reach
    (e.g. under /root), stay uid 0 but give up every capability, so root's powers are gone either way."""
    libc = _libc()
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        mode = f"uid {uid}"
    else:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
        for cap in range(last + 1):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), f"cannot drop capability {cap}")
        libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (ctypes.c_uint32 * 6)()
        if libc.capset(header, data) != 0:
            raise OSError(ctypes.get_errno(), "capset failed")
        mode = "root without capabilities"
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    ctypes.set_errno(0)   # ctypes keeps one errno for every library; leave none behind for the next
    return mode


def _readable_roots(extra: list[str]) -> list[str]:
    paths = sysconfig.get_paths()
    roots = {paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"]}
    roots.update(extra)
    return sorted(p for p in roots if p and os.path.isdir(p))


def _landlock(read_dirs: list[str], write_dir: Path) -> None:
    if _Ruleset is None:
        raise RuntimeError("the landlock module is not installed")
    read = _FS.EXECUTE | _FS.READ_FILE | _FS.READ_DIR
    rs = _Ruleset()
    rs.allow(*read_dirs, rules=read)
    rs.allow(str(write_dir), rules=_FS.all())
    rs.allow("/dev/null", rules=_FS.READ_FILE | _FS.WRITE_FILE)
    rs.apply()   # also sets PR_SET_NO_NEW_PRIVS


def _seccomp() -> None:
    sc = _sc
    if sc is None:
        raise RuntimeError("pyseccomp (libseccomp) is not available")
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    for name in DENIED_SYSCALLS:
        try:
            f.add_rule(deny, name)
        except Exception:
            pass  # not a syscall on this architecture
    # Threads are clone(CLONE_THREAD); anything else is a new process.
    f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")   # glibc then falls back to clone, filtered above
    pid = os.getpid()
    f.add_rule(deny, "kill", sc.Arg(0, sc.NE, pid))
    f.add_rule(deny, "tgkill", sc.Arg(0, sc.NE, pid))
    f.add_rule(deny, "tkill", sc.Arg(0, sc.NE, pid))
    f.load()


def confine(package_dir: Path, data_dir: Path, limits: dict[str, Any], code_dirs: list[str]) -> dict[str, str]:
    """Apply every mechanism available; return {mechanism: "on" | "off: reason"}."""
    report: dict[str, str] = {}
    is_root = os.geteuid() == 0
    readable = _readable_roots(code_dirs + [str(package_dir)])   # sysconfig reads files: before confinement

    def attempt(name: str, fn, *args) -> None:
        try:
            detail = fn(*args)
            report[name] = "on" + (f" ({detail})" if isinstance(detail, str) else "")
        except Exception as exc:  # reported to the host, which decides whether to run unconfined
            report[name] = f"off: {type(exc).__name__}: {exc}"

    attempt("rlimits", _limits, limits)
    attempt("network", _no_network, is_root)
    if is_root:
        attempt("privileges", _drop_privileges, limits.get("uid"))
    else:
        report["privileges"] = f"on (uid {os.geteuid()})"
    attempt("filesystem", _landlock, readable, data_dir)
    attempt("seccomp", _seccomp)
    return report
