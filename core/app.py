"""`create_app(config)`: a Quart app around a fresh kernel (no module-level state)."""
from __future__ import annotations

from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException

from core.config import Config
from core.ddp.asgi import mount as mount_ddp
from core.ddp.gateway import DdpGateway
from core.errors import ApiError
from core.kernel import Kernel
from core.rest.dispatch import RestDispatcher, error_response, http_error, limit_body

ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def create_app(config: Config | None = None) -> Quart:
    config = config or Config.from_env()
    kernel = Kernel(config)
    app = Quart("orbitchat")
    app.config["MAX_CONTENT_LENGTH"] = None   # per request: the REST dispatcher applies each route's limit
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.extensions["orbitchat"] = kernel

    rest = RestDispatcher(kernel)
    ddp = DdpGateway(kernel)
    kernel.ddp_gateway = ddp
    app.add_url_rule("/api/<path:path>", "rest", rest.__call__, methods=ALL_METHODS)
    mount_ddp(app, ddp)   # /websocket and SockJS's websocket path, as plain ASGI in front of Quart
    app.add_url_rule("/sockjs/info", "sockjs_info", sockjs_info, methods=["GET"])

    @app.before_request
    async def _bound_body() -> None:
        if not request.path.startswith("/api/"):
            limit_body(config.max_body_bytes)

    @app.before_serving
    async def _start() -> None:
        await kernel.start()

    @app.after_serving
    async def _stop() -> None:
        await kernel.stop()

    @app.errorhandler(HTTPException)
    async def _http_error(exc: HTTPException) -> Response:
        return error_response(http_error(exc))

    @app.errorhandler(Exception)
    async def _error(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return error_response(ApiError("Internal server error", status=500))

    return app


async def sockjs_info() -> Response:
    """What SockJS clients ask before opening the socket."""
    import secrets

    from core import jsonutil
    body = {"websocket": True, "origins": ["*:*"], "cookie_needed": False, "entropy": secrets.randbits(32)}
    return Response(jsonutil.dumps(body), content_type="application/json; charset=UTF-8",
                    headers={"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0"})


def kernel_of(app: Quart) -> Kernel:
    return app.extensions["orbitchat"]
