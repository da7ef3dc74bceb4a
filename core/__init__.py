"""OrbitChat kernel: the public API that plugins build on."""
from core.hookspecs import hookimpl
from core.version import VERSION

__all__ = ["VERSION", "hookimpl"]
