"""Reading and authenticating Twilio webhook requests
(docs/providers/twilio.md#webhooks, docs/providers/twilio.md#signature)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from threadline.channels.base import (
    AccountConfig,
    PayloadError,
    ProviderEvent,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
)
from threadline.channels.twilio.signature import (
    SIGNATURE_HEADER,
    body_hash_matches,
    is_valid,
    parse_form,
)

EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_PARAMS = 2000


def empty_twiml() -> WebhookResponse:
    """Twilio's ack: an empty TwiML document (we answer asynchronously through the API)."""
    return WebhookResponse(status=200, body=EMPTY_TWIML, media_type="application/xml")


def is_json_request(request: WebhookRequest) -> bool:
    ctype = (request.header("content-type") or "").lower()
    return "json" in ctype or "bodysha256=" in urlsplit(request.url).query.lower()


def verify(account: AccountConfig, request: WebhookRequest) -> None:
    """Check X-Twilio-Signature against the auth token(s) and the public URL(s)."""
    signature = request.header(SIGNATURE_HEADER)
    if not signature:
        raise SignatureError("missing X-Twilio-Signature header", code="missing_signature")
    tokens = [str(account.require("auth_token"))]
    secondary = account.get("secondary_auth_token")
    if secondary:
        tokens.append(str(secondary))  # token rotation overlap (unverified, configurable)
    urls = candidate_urls(account, request)
    if is_json_request(request):
        if not body_hash_matches(request.url, request.body):
            raise SignatureError("bodySHA256 does not match the body", code="bad_body_hash")
        params: list[tuple[str, str]] = []
    elif request.method.upper() == "GET":
        params = []  # GET webhooks carry their parameters in the signed URL
    else:
        try:
            params = parse_form(request.body)
        except ValueError:
            raise SignatureError("body is not form-encoded UTF-8", code="bad_signature") from None
    if not is_valid(signature, tokens, urls, params):
        raise SignatureError("X-Twilio-Signature does not match the URL and parameters")


def candidate_urls(account: AccountConfig, request: WebhookRequest) -> list[str]:
    """The URL Twilio called, and the same path on `webhook_base_url` when behind a proxy."""
    urls = [request.url]
    public_base = account.get("webhook_base_url")
    if public_base:
        parts = urlsplit(request.url)
        tail = parts.path + (f"?{parts.query}" if parts.query else "")
        rebuilt = str(public_base).rstrip("/") + tail
        if rebuilt not in urls:
            urls.append(rebuilt)
    return urls


def read_params(request: WebhookRequest) -> dict[str, str]:
    """The webhook's parameters from a form body, a JSON body, or a GET query string."""
    if is_json_request(request):
        try:
            data: Any = json.loads(request.body)
        except (ValueError, RecursionError):
            raise PayloadError("body is not JSON") from None
        if not isinstance(data, dict):
            raise PayloadError("JSON webhook body is not an object")
        params = {str(k): _scalar(v) for k, v in data.items() if _scalar(v) is not None}
    elif request.method.upper() == "GET":
        params = {str(k): str(v) for k, v in request.query.items()}
    else:
        try:
            params = dict(parse_form(request.body))
        except ValueError:
            raise PayloadError("body is not form-encoded UTF-8") from None
    if len(params) > MAX_PARAMS:
        raise PayloadError("too many parameters")
    return {k: v for k, v in params.items() if isinstance(v, str)}


def event(event_id: str, kind: str, params: dict[str, str]) -> ProviderEvent:
    """One stored event; Twilio webhooks carry no event time, so the arrival time is kept."""
    return ProviderEvent(event_id, {"type": kind, "params": params,
                                    "received_at": datetime.now(UTC).isoformat()})


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"invalid payload at {where or 'body'}: {first.get('msg', 'invalid')}"
