"""A brand's customer data endpoint for the tests: a real HTTP server on 127.0.0.1 (a
threaded `http.server`) that verifies the Standard Webhooks signature of every request
before it parses the body, records what it received, and answers in the mode of the path:

  /ok       the orders of the customer (reference 5.3), an account, a subscription, a
            balance and a ticket
  /slow     the same, after `slow_seconds` (past the configured timeout)
  /500      a 500 with a problem+json body
  /404      the customer is unknown
  /busy     a 503 with Retry-After: 120
  /hostile  script in every string, a `javascript:` link, unknown fields, odd types
  /huge     a 300 KiB JSON body (with its Content-Length)
  /drip     a 300 KiB JSON body without a Content-Length (chunked)
  /html     a 200 with text/html
  /badjson  a 200 application/json that is not JSON
  /redirect a 302 to /internal (which must never be requested)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ORDERS = [{"id": "o_981", "number": "#1042", "status": "shipped",
           "placed_at": "2025-12-28T10:00:00Z",
           "total": {"amount": "59.90", "currency": "EUR"},
           "items": [{"sku": "TSHIRT-M", "name": "T-shirt M", "quantity": 2}],
           "tracking_url": "https://carrier.example/track/XYZ"},
          {"id": "o_975", "number": "#1031", "status": "delivered",
           "total": {"amount": "12.00", "currency": "EUR"}}]
ANSWER = {"customer": {"external_id": "7001", "name": "Alice Doe", "tier": "gold",
                       "lifetime_value": {"amount": "1234.50", "currency": "EUR"},
                       "url": "https://shop.example/admin/customers/7001"},
          "orders": ORDERS,
          "subscriptions": [{"id": "s_1", "plan": "Monthly box", "status": "active",
                             "renews_at": "2026-01-15", "price": {"amount": "19.00",
                                                                  "currency": "EUR"}}],
          "balance": {"amount": "-4.10", "currency": "EUR"},
          "tickets": [{"id": "t_7", "subject": "Return label", "status": "open"}],
          "next_cursor": None, "unknown_section": {"ignored": True}}
SCRIPT = "<script>alert('x')</script>"
HOSTILE = {"customer": {"external_id": SCRIPT, "name": f"<img src=x onerror=alert(1)>{SCRIPT}",
                        "url": "javascript:alert(document.cookie)"},
           "orders": [{"id": 5, "number": f"#{SCRIPT}", "status": "\"><b>bold</b>",
                       "tracking_url": "javascript:alert(1)", "surprise": [1, 2, 3]}],
           "tickets": [{"subject": "x" * 5000}]}


def verify(secret: str, headers: Any, body: bytes, tolerance: int = 300) -> bool:
    """Standard Webhooks `v1`, as a brand would check it (written here independently of
    threadline's signer): decoded key, `{id}.{ts}.{body}`, any v1 entry, constant time."""
    msg_id = headers.get("webhook-id") or ""
    stamp = headers.get("webhook-timestamp") or ""
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > tolerance:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body,
                                         hashlib.sha256).digest()).decode()
    for entry in (headers.get("webhook-signature") or "").split():
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    signed: bool


@dataclass
class Receiver:
    url: str = ""
    secret: str = ""
    slow_seconds: float = 3.0
    received: list[Received] = field(default_factory=list)
    on_request: Any = None  # called in the handler thread before answering
    force_mode: str | None = None  # answers in this mode whatever the path

    def paths(self) -> list[str]:
        return [r.path for r in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, ctype: str = "application/json",
                  headers: dict[str, str] | None = None, length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if length:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 16 * 1024):
                chunk = body[start:start + 16 * 1024]
                try:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                except OSError:
                    return  # the client stopped reading: expected past the cap
            self.wfile.write(b"0\r\n\r\n")

        def do_GET(self) -> None:
            """Only a followed redirect would come here: recorded, answered as a success."""
            receiver.received.append(Received(self.path.split("?")[0], {}, {}, False))
            self._send(200, json.dumps(ANSWER).encode())

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signed = verify(receiver.secret, self.headers, raw)
            path = self.path.split("?")[0]
            receiver.received.append(Received(path, {k.lower(): v for k, v in
                                                     self.headers.items()},
                                              json.loads(raw) if signed else {}, signed))
            if receiver.on_request is not None:
                receiver.on_request(path)
            if not signed:
                self._send(401, b'{"title": "bad signature"}', "application/problem+json")
                return
            mode = receiver.force_mode or path.rsplit("/", 1)[-1]
            if mode == "slow":
                time.sleep(receiver.slow_seconds)
                mode = "ok"
            if mode == "ok":
                self._send(200, json.dumps(ANSWER).encode())
            elif mode == "500":
                self._send(500, b'{"type": "about:blank", "title": "Internal error", '
                                b'"status": 500}', "application/problem+json")
            elif mode == "busy":
                self._send(503, b'{"title": "busy"}', "application/problem+json",
                           headers={"Retry-After": "120"})
            elif mode == "404":
                self._send(404, b'{"title": "no such customer"}', "application/problem+json")
            elif mode == "hostile":
                self._send(200, json.dumps(HOSTILE).encode(), "application/json; charset=utf-8")
            elif mode in ("huge", "drip"):
                big = json.dumps({"orders": [{"id": "o", "status": "x" * 1000}] * 300}).encode()
                self._send(200, big, length=mode == "huge")
            elif mode == "html":
                self._send(200, b"<html><body>Shop</body></html>", "text/html")
            elif mode == "badjson":
                self._send(200, b"{not json", "application/json")
            elif mode == "redirect":
                self._send(302, b"", headers={"Location": "/internal"})
            else:
                self._send(418, b"{}")

    return Handler


class ReceiverServer:
    """Plain HTTP on 127.0.0.1; with `tls` (a server context), HTTPS named `https://localhost`."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.receiver = Receiver()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.receiver))
        self.server.daemon_threads = True
        port = self.server.server_address[1]
        self.receiver.url = f"http://127.0.0.1:{port}"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.receiver.url = f"https://localhost:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self.receiver

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
