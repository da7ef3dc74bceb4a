"""OrbitChat kernel: the public API that plugins build on."""
from core.version import VERSION
from core.hookspecs import hookimpl

__all__ = ["VERSION", "hookimpl"]
