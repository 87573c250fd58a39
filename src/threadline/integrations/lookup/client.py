"""The call to the brand's endpoint (reference section 5): a POST of a small JSON body
signed with the Standard Webhooks headers (`webhook-id` is the lookup id, the key is the
endpoint's own `whsec_` secret), read-only, to an address resolved once and checked (no
DNS rebinding), with a short total timeout, no redirects, a 256 KiB cap on the answer and a
JSON content type required. Every way it can go wrong is an
`Answer` with a stable error code and a message for people; nothing here raises for the
endpoint's behaviour, and nothing logs the body or the customer's coordinates."""

from __future__ import annotations

import ipaddress
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from pydantic import ValidationError

from threadline.channels.urls import (
    Resolver,
    UrlPolicy,
    UrlRefused,
    check_endpoint,
    resolve_addresses,
)
from threadline.integrations.lookup.contract import CustomerData
from threadline.integrations.lookup.models import Outcome
from threadline.integrations.signing import new_secret as new_secret  # used from here
from threadline.integrations.signing import sign

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
CONNECT_SECONDS = 2.0
USER_AGENT = "Threadline-Lookup/1"


@dataclass(frozen=True)
class Answer:
    outcome: str
    status_code: int | None = None
    error_code: str | None = None
    message: str | None = None
    data: CustomerData | None = None
    retry_after: int | None = None


def request_body(*, lookup_id: str, workspace_id: str, customer: dict[str, Any],
                 conversation_id: str | None, now: datetime) -> bytes:
    """The body, serialised once: these exact bytes are signed and sent."""
    data: dict[str, Any] = {"lookup_id": lookup_id, "workspace_id": workspace_id,
                            "conversation_id": conversation_id, "customer": customer,
                            "want": ["account", "orders", "subscriptions", "balance",
                                     "tickets"],
                            "orders_limit": 5}
    return orjson.dumps({"type": "lookup.customer",
                         "timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "data": data})


def _retry_after(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return min(int(value.strip()), 3600)
    return None


def _json_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


@dataclass(frozen=True)
class Target:
    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


def pinned(url: str, policy: UrlPolicy, resolve: Resolver = resolve_addresses) -> Target:
    """Resolve the endpoint's name once, check those very addresses, and connect to one of
    them (reference 5.4): the URL carries the address, while `Host` and the TLS server name
    (SNI and the certificate check) carry the name. A name that resolves to a public address
    when checked and to an internal one when connecting (DNS rebinding) cannot slip through.
    An address in the URL is checked as it is."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise UrlRefused("not a valid URL") from None
    if not host or _is_ip(host):
        check_endpoint(url, policy, resolve=resolve)
        return Target(url, {}, {})
    addresses: list[str] = []

    def once(name: str) -> list[str]:
        if not addresses:
            addresses.extend(resolve(name))
        return addresses

    check_endpoint(url, policy, resolve=once)  # strict: these addresses are the ones checked
    once(host)  # allowed custom URLs and trusted hosts are not checked, but pinned all the same
    if not addresses:
        raise UrlRefused(f"the host {host!r} does not resolve")
    address = next((a for a in addresses if ":" not in a), addresses[0])
    where = f"[{address}]" if ":" in address else address
    if port is not None:
        where = f"{where}:{port}"
    # `Connection: close`: a pooled connection is keyed by address, so another name on the
    # same address must not reuse one whose certificate was checked for this name
    return Target(urlunsplit((parts.scheme, where, parts.path, parts.query, "")),
                  {"host": parts.netloc, "connection": "close"}, {"sni_hostname": host})


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def call(http: httpx.Client, url: str, secret: str, body: bytes, lookup_id: str, *,
         timeout_seconds: float, policy: UrlPolicy) -> Answer:
    """One call; the URL is checked again right before it (a row written before a rule
    changed, or by hand, must not reach an internal address) and the call pinned to the
    checked address."""
    try:
        target = pinned(url, policy)
    except UrlRefused as exc:
        return Answer(Outcome.FAILED, error_code="lookup_url_refused",
                      message=f"the endpoint URL is refused: {exc}")
    timestamp = int(time.time())
    headers = {"content-type": "application/json", "accept": "application/json",
               "accept-encoding": "identity", "user-agent": USER_AGENT, "webhook-id": lookup_id,
               "webhook-timestamp": str(timestamp),
               "webhook-signature": sign(secret, lookup_id, timestamp, body), **target.headers}
    started = time.monotonic()
    deadline = started + timeout_seconds
    timeout = httpx.Timeout(timeout_seconds, connect=min(CONNECT_SECONDS, timeout_seconds))
    try:
        with http.stream("POST", target.url, content=body, headers=headers, timeout=timeout,
                         follow_redirects=False, extensions=target.extensions) as response:
            answer = _read(response, deadline, timeout_seconds)
    except httpx.TimeoutException:
        answer = _timeout(timeout_seconds)
    except httpx.HTTPError as exc:
        answer = Answer(Outcome.FAILED, error_code="lookup_unreachable",
                        message=f"the endpoint cannot be reached ({type(exc).__name__})")
    log.info("customer data lookup %s: %s %s in %.0f ms", lookup_id, answer.outcome,
             answer.status_code or "-", (time.monotonic() - started) * 1000)
    return answer


def _timeout(seconds: float) -> Answer:
    return Answer(Outcome.TIMEOUT, error_code="lookup_timeout",
                  message=f"the endpoint did not answer within {seconds:g} s")


def _read(response: httpx.Response, deadline: float, timeout_seconds: float) -> Answer:
    status = response.status_code
    if 300 <= status < 400:
        return Answer(Outcome.FAILED, status, "lookup_redirect",
                      f"the endpoint answered with a redirect (HTTP {status}); redirects "
                      "are never followed: configure the final URL")
    if status == 404:
        return Answer(Outcome.NOT_FOUND, status)
    if status in (401, 403):
        return Answer(Outcome.FAILED, status, "lookup_unauthorized",
                      f"the endpoint refused the request (HTTP {status}): check the signing "
                      "secret and the endpoint's configuration")
    if status in (429, 503):
        return Answer(Outcome.FAILED, status, "lookup_busy",
                      f"the endpoint is busy (HTTP {status})",
                      retry_after=_retry_after(response.headers.get("retry-after")))
    if status != 200:
        return Answer(Outcome.FAILED, status, "lookup_http_error",
                      f"the endpoint answered HTTP {status}")
    if not _json_type(response.headers.get("content-type", "")):
        return Answer(Outcome.FAILED, status, "lookup_content_type",
                      "the endpoint's answer is not JSON (content type "
                      f"{response.headers.get('content-type', 'missing')[:60]!r})")
    if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return Answer(Outcome.FAILED, status, "lookup_content_type",
                      "the endpoint's answer is compressed; send it uncompressed")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return _too_large(status)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        size += len(chunk)
        if size > MAX_BODY:
            return _too_large(status)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            return _timeout(timeout_seconds)
    return _parse(status, b"".join(chunks))


def _too_large(status: int) -> Answer:
    return Answer(Outcome.FAILED, status, "lookup_too_large",
                  f"the endpoint's answer is over the {MAX_BODY // 1024} KiB limit")


def _parse(status: int, raw: bytes) -> Answer:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Answer(Outcome.FAILED, status, "lookup_invalid_json",
                      "the endpoint's answer is not valid JSON")
    if not isinstance(value, dict):
        return Answer(Outcome.FAILED, status, "lookup_invalid_response",
                      "the endpoint's answer is not a JSON object")
    try:
        data = CustomerData.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "answer"
        return Answer(Outcome.FAILED, status, "lookup_invalid_response",
                      f"the endpoint's answer does not follow the contract at {field[:80]}")
    return Answer(Outcome.OK, status, data=data)
