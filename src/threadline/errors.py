"""Typed errors: every expected failure has an HTTP status and a stable machine code."""

from __future__ import annotations

from typing import Any


class ThreadlineError(Exception):
    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(ThreadlineError):
    status = 400
    code = "bad_request"


class Unauthorized(ThreadlineError):
    status = 401
    code = "unauthorized"


class Forbidden(ThreadlineError):
    status = 403
    code = "forbidden"


class NotFound(ThreadlineError):
    status = 404
    code = "not_found"


class Conflict(ThreadlineError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ThreadlineError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ThreadlineError):
    status = 415
    code = "unsupported_media_type"


class ValidationFailed(ThreadlineError):
    status = 422
    code = "validation_failed"


class PolicyViolation(ThreadlineError):
    """An outbound action is refused by a policy (PII on public, messaging window, limits)."""

    status = 422
    code = "policy_violation"


class RateLimited(ThreadlineError):
    status = 429
    code = "rate_limited"


class MissingExtra(ThreadlineError):
    """An optional feature whose packages are not installed (a `pip install threadline[extra]`)."""

    status = 501
    code = "missing_extra"
