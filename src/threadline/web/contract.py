"""The REST API's documented contract: the error envelope every failure is sent in, and the
`responses=` a route declares for the typed errors it can raise (see docs/api.md).

    @router.get("/things/{id}", responses=errors(NotFound))

`errors()` always adds 401 (every route under /api/v1 needs a token) and 422 (the request
failed validation: the app turns FastAPI's RequestValidationError into the same envelope, so
the default `HTTPValidationError` schema would be a lie). Pass `auth=False` for public routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from threadline.errors import (
    Forbidden,
    ThreadlineError,
    Unauthorized,
    ValidationFailed,
)


class ErrorBody(BaseModel):
    model_config = ConfigDict(title="Error")

    code: str = Field(description="Stable, machine-readable: missing_token, not_found, "
                                  "insufficient_role, validation_failed, rate_limited...")
    message: str = Field(description="One line for people; never contains personal data.")
    details: dict[str, Any] | None = Field(
        default=None, description="Present only when there is more to say: `errors` "
                                  "(validation: loc and msg per problem), `retry_after` "
                                  "(seconds, on 429), `accepted` (content types, on 415)...")


class ErrorEnvelope(BaseModel):
    """Every error the API sends: `{"error": {"code", "message", "details"?}}`."""

    error: ErrorBody


# What each status means, for the documentation.
_MEANING = {
    400: "The request cannot be understood (a bad cursor, a bad event id...).",
    401: "No API token, or a token that is unknown, revoked or expired.",
    403: "The token's role is not enough (insufficient_role).",
    404: "No such resource in the token's workspace.",
    409: "The change conflicts with the current state.",
    410: "The resource existed but is gone (a used or expired link).",
    413: "The request body is over the limit.",
    415: "The content type is not accepted.",
    422: "The request is not valid (validation_failed, with details.errors), or a rule "
         "refuses it (policy_violation and other stable codes).",
    429: "Too many requests; details.retry_after says when to try again.",
}

Responses = dict[int | str, dict[str, Any]]

# Set by routes that read their JSON body themselves (undecodable bytes are a 422 there).
RAW_BODY = "x-raw-body"
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


def http_error_body(status: int, detail: object) -> dict[str, Any]:
    """The envelope for the framework's own errors (an unknown path, a method not allowed, a
    body that is not even text), so that every error has the same shape."""
    message = detail if isinstance(detail, str) else "the request cannot be served"
    return {"error": {"code": HTTP_CODES.get(status, f"http_{status}"), "message": message}}


def document_body_errors(app: FastAPI) -> None:
    """Routes whose JSON body the framework parses answer 400 (bad_request) for bytes that
    cannot be decoded at all; malformed JSON is a 422 like any invalid body. Added to the
    generated document (routes are resolved lazily, so this runs on the finished schema)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    body = operation.get("requestBody", {}).get("content", {})
                    if "application/json" in body and not operation.get(RAW_BODY):
                        operation["responses"].setdefault("400", {
                            "description": _MEANING[400], "content": {"application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}})
                    operation.pop(RAW_BODY, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def errors(*raised: type[ThreadlineError], auth: bool = True,
           role: bool = False) -> Responses:
    """The `responses=` of a route that can raise these errors. `role`: the route needs more
    than the agent role (403)."""
    kinds: list[type[ThreadlineError]] = [ValidationFailed, *raised]
    if auth:
        kinds.append(Unauthorized)
    if role:
        kinds.append(Forbidden)
    out: Responses = {}
    for status in sorted({kind.status for kind in kinds}):
        out[status] = {"model": ErrorEnvelope, "description": _MEANING.get(status, "Error.")}
    return out
