"""Errors handlers raise; REST turns them into Rocket.Chat's envelope, DDP into Meteor.Error JSON."""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A client-visible failure. `error_type` is Rocket.Chat's error code (e.g. `error-room-not-found`)."""

    status = 400

    def __init__(
        self,
        message: str,
        error_type: str | None = None,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.details = details
        self.extra = extra or {}
        if status is not None:
            self.status = status

    def rest_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": False, "error": self.message}
        if self.error_type:
            body["errorType"] = self.error_type
        if self.details is not None:
            body["details"] = self.details
        body.update(self.extra)
        return body

    def ddp_error(self) -> dict[str, Any]:
        code: Any = self.error_type or self.status
        reason = self.message
        return meteor_error(code, reason, self.details)


class MeteorError(ApiError):
    """`Meteor.Error(code, reason, details)`: REST shows `"<reason> [<code>]"` with `errorType=<code>`."""

    def __init__(self, code: str, reason: str | None = None, details: dict | None = None, *,
                 status: int = 400) -> None:
        self.code = code
        self.reason = reason or code
        text = f"{self.reason} [{code}]" if reason else code
        super().__init__(text, code, status=status, details=details)

    def ddp_error(self) -> dict[str, Any]:
        return meteor_error(self.code, self.reason, self.details)


def meteor_error(code: Any, reason: str, details: dict | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {
        "isClientSafe": True,
        "error": code,
        "reason": reason,
        "message": f"{reason} [{code}]",
        "errorType": "Meteor.Error",
    }
    if details is not None:
        err["details"] = details
    return err


class InvalidParams(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, "invalid-params")


class Unauthorized(ApiError):
    """401: not logged in (or a revoked/expired token)."""

    status = 401

    def __init__(self) -> None:
        msg = "You must be logged in to do this."
        super().__init__(msg, extra={"status": "error", "message": msg})

    def ddp_error(self) -> dict[str, Any]:
        return meteor_error(401, "You must be logged in to do this.")


class Forbidden(ApiError):
    """403 for a permission the caller lacks."""

    status = 403

    def __init__(self, message: str = "User does not have the permissions required for this action "
                 "[error-unauthorized]") -> None:
        super().__init__(message)

    def ddp_error(self) -> dict[str, Any]:
        return meteor_error("error-action-not-allowed", "Not allowed")


class NotFound(ApiError):
    status = 404

    def __init__(self, message: str = "Resource not found") -> None:
        super().__init__(message)


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, reset_ms: int) -> None:
        super().__init__("Too many requests", "error-too-many-requests", details={"timeToReset": reset_ms})
        self.reset_ms = reset_ms

    def ddp_error(self) -> dict[str, Any]:
        return meteor_error("too-many-requests", "Error, too many requests. Please slow down. You must wait "
                            f"{max(1, self.reset_ms // 1000)} seconds before trying again.",
                            {"timeToReset": self.reset_ms})
