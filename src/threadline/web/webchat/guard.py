"""Hardening of the public web chat endpoints (docs/webchat.md).

- Origin allow-list: the account's `allowed_origins` (a list; "*" allows any). Threadline's
  own origin (the standalone chat page) is always allowed. A request without an Origin
  header is not a cross-site browser request and passes; the visitor token still applies.
- CORS: allowed origins get Access-Control-Allow-Origin on every answer, errors included,
  so the widget can read the typed error.
- Rate limits: per visitor (messages) and per client address (sessions), sliding window,
  counted by the process's limiter (events/ratelimit.py; shared through Redis when scaled).
- Bodies: JSON only, size-limited before parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from threadline.errors import (
    Forbidden,
    PayloadTooLarge,
    RateLimited,
    ThreadlineError,
    UnsupportedMediaType,
)

MAX_BODY_BYTES = 16 * 1024
ALLOW_HEADERS = "content-type, x-visitor-token, last-event-id"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request, config: Mapping[str, Any], public_url: str | None) -> None:
    """Refuse a browser request from a site not on the account's allow-list (403)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        if origin == "null" and config.get("allowed_origins"):
            raise Forbidden("this chat is not enabled on this site", code="origin_not_allowed")
        return
    origin = origin.rstrip("/").lower()
    own = {_origin_of(str(request.base_url))}
    if public_url:
        own.add(_origin_of(public_url))
    allowed = config.get("allowed_origins") or ["*"]
    if isinstance(allowed, str):
        allowed = [allowed]
    listed = {str(o).rstrip("/").lower() for o in allowed}
    if origin in own or "*" in listed or origin in listed:
        request.state.cors_origin = request.headers["origin"]
        return
    raise Forbidden("this chat is not enabled on this site", code="origin_not_allowed")


def cors_headers(request: Request) -> dict[str, str]:
    origin: str | None = getattr(request.state, "cors_origin", None)
    if not origin:
        return {}
    return {"access-control-allow-origin": origin, "vary": "Origin",
            "access-control-expose-headers": "retry-after"}


def preflight_headers(request: Request) -> dict[str, str]:
    return {**cors_headers(request), "access-control-allow-methods": "GET, POST, OPTIONS",
            "access-control-allow-headers": ALLOW_HEADERS, "access-control-max-age": "600"}


class WebchatRoute(APIRoute):
    """Every answer of the web chat router carries the CORS headers of an allowed origin,
    and errors keep the typed JSON shape of the rest of the API."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except ThreadlineError as exc:
                headers = cors_headers(request)
                if isinstance(exc, RateLimited) and "retry_after" in exc.details:
                    headers["retry-after"] = str(exc.details["retry_after"])
                return JSONResponse({"error": exc.to_dict()}, status_code=exc.status,
                                    headers=headers)
            except RequestValidationError as exc:
                errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
                          for e in exc.errors()]
                return JSONResponse({"error": {"code": "validation_failed",
                                               "message": "the request is not valid",
                                               "details": {"errors": errors}}},
                                    status_code=422, headers=cors_headers(request))
            for key, value in cors_headers(request).items():
                response.headers.setdefault(key, value)
            return response

        return handler


async def read_json_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise UnsupportedMediaType("send the body as application/json",
                                   details={"accepted": ["application/json"]})
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PayloadTooLarge(f"body over {limit} bytes")
    return bytes(body)
