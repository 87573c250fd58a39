"""Security headers of every answer: one Content-Security-Policy builder and one middleware.

Every response gets a strict policy (scripts and styles only from Threadline's own files, no
inline script or style, no framing), `X-Content-Type-Options: nosniff` and a referrer policy.
A page that needs another policy (the customer pages, the embeddable web chat page, the API
docs) builds it with `policy()` and `page_headers()` and sets it on its response; the
middleware then only fills in what the page left out. `X-Frame-Options` mirrors the policy's
`frame-ancestors` for browsers that predate it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_POLICY: dict[str, str] = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def policy(**changes: str | None) -> str:
    """The base policy with directives changed (`form_action="'none'"`) or left out (None)."""
    directives = dict(BASE_POLICY)
    for name, value in changes.items():
        key = name.replace("_", "-")
        if value is None:
            directives.pop(key, None)
        else:
            directives[key] = value
    return "; ".join(f"{key} {value}" for key, value in directives.items())


def frame_ancestors(origins: Iterable[object]) -> str:
    """`frame-ancestors` for a page that sites may embed: the listed origins (well-formed
    http(s) origins only, so a setting cannot inject directives), any site for "*"."""
    listed = [str(o).strip().rstrip("/").lower() for o in origins]
    if not listed or "*" in listed:
        return "*"
    return " ".join(["'self'", *sorted({o for o in listed if ORIGIN.match(o)})])


def page_headers(csp: str, *, referrer: str = "same-origin") -> dict[str, str]:
    headers = {"content-security-policy": csp, "x-content-type-options": "nosniff",
               "referrer-policy": referrer}
    ancestors = re.search(r"frame-ancestors ([^;]*)", csp)
    framing = ancestors.group(1).strip() if ancestors else "*"
    if framing == "'none'":
        headers["x-frame-options"] = "DENY"
    elif framing == "'self'":
        headers["x-frame-options"] = "SAMEORIGIN"
    return headers


DEFAULT_HEADERS = page_headers(policy())
FRAMING = ("content-security-policy", "x-frame-options")


class SecurityHeaders:
    """ASGI middleware: the default headers on every HTTP answer that lacks them. An answer
    that brought its own policy keeps its framing rules (no X-Frame-Options added)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = headers or DEFAULT_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                own_policy = "content-security-policy" in headers
                for key, value in self.headers.items():
                    if key in headers or (own_policy and key in FRAMING):
                        continue
                    headers[key] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
