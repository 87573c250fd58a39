"""Typed errors: every expected failure has an HTTP status and a stable machine code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


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


def invalid_input(exc: Any, code: str, *, what: str = "input",
                  field_of: Callable[[tuple[Any, ...]], str] | None = None) -> ValidationFailed:
    """A pydantic `ValidationError` as the typed 422 naming its first bad field (`details`:
    that field and every error); `field_of` names a field from its location."""
    name = field_of or (lambda loc: ".".join(str(p) for p in loc))
    errors = [{"field": name(tuple(e["loc"])), "msg": str(e["msg"]).removeprefix("Value error, ")}
              for e in exc.errors()]
    first = errors[0] if errors else {"field": "", "msg": "not valid"}
    return ValidationFailed(f"{first['field'] or what}: {first['msg']}", code=code,
                            details={"field": first["field"], "errors": errors})


def validated(model: type[M], raw: Any, code: str, *, what: str = "input",
              field_of: Callable[[tuple[Any, ...]], str] | None = None) -> M:
    """Untrusted input as `model`, or the typed 422 of `invalid_input`."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise invalid_input(exc, code, what=what, field_of=field_of) from None


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
