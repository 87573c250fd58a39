"""The request id: every HTTP request gets one, its log lines carry it, the answer names it.

An incoming `X-Request-ID` (from a reverse proxy or the client) is kept when it is a short
token (`[A-Za-z0-9._-]{1,64}`); anything else is replaced by a new id, so a client cannot
write what it likes into the logs. A pure ASGI middleware: Starlette's BaseHTTPMiddleware
would buffer the server-sent event stream.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from threadline import logs

HEADER = "x-request-id"
_HEADER_BYTES = HEADER.encode()


def incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == _HEADER_BYTES:
            text: str = value.decode("latin-1")
            return text
    return None


class RequestId:
    """ASGI middleware: sets the log context's request id for the request's whole run and
    returns it in the `X-Request-ID` response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = logs.safe_request_id(incoming(scope))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with logs.context(request_id=request_id):
            await self.app(scope, receive, send_with_id)
