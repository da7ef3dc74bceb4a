"""DDP realtime plumbing: method and stream declarations, connections, the websocket gateway."""
from core.ddp.connection import DdpConnection
from core.ddp.gateway import MethodInvocation
from core.ddp.registry import DdpMethod, Stream

__all__ = ["DdpConnection", "DdpMethod", "MethodInvocation", "Stream"]
