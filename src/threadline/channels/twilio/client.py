"""Calls to the Twilio REST API: form-encoded POSTs with basic auth, errors mapped to types."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from urllib.parse import quote, urlencode

import httpx
from pydantic import ValidationError

from threadline.channels.base import (
    AccountConfig,
    PermanentSendError,
    ProviderHosts,
    RetryableSendError,
)
from threadline.channels.twilio.payloads import TwilioErrorBody

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
# Twilio errors that mean "the request was not processed; try again later"
# (docs/providers/twilio.md#policy-and-limits).
RETRYABLE_CODES = frozenset({20429})
TWILIO_API = ProviderHosts("https://api.twilio.com", frozenset({"api.twilio.com"}))


def resource_url(account: AccountConfig, resource: str) -> str:
    base = account.provider_base(TWILIO_API)
    sid = quote(str(_require(account, "account_sid")), safe="")
    return f"{base}/{API_VERSION}/Accounts/{sid}/{resource}.json"


def auth(account: AccountConfig) -> tuple[str, str]:
    """Basic auth: an API key pair when configured, else AccountSid:AuthToken (a pair, which
    every httpx-compatible client takes as basic auth)."""
    key_sid, key_secret = account.get("api_key_sid"), account.get("api_key_secret")
    if key_sid and key_secret:
        return str(key_sid), str(key_secret)
    return str(_require(account, "account_sid")), str(_require(account, "auth_token"))


def post_form(http: httpx.Client, account: AccountConfig, resource: str,
              form: Sequence[tuple[str, str]]) -> httpx.Response:
    """POST the form (order and repeated names kept); map failures to the send error types."""
    url = resource_url(account, resource)
    try:
        response = http.post(url, content=urlencode(list(form)).encode("utf-8"), auth=auth(account),
                             headers={"content-type": "application/x-www-form-urlencoded",
                                      "accept": "application/json"}, follow_redirects=False)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise RetryableSendError(f"could not reach Twilio: {type(exc).__name__}",
                                 code="transport_unreached") from None
    except httpx.TransportError as exc:
        # The request may have been processed: see README "crash between send and commit".
        raise RetryableSendError(f"no answer from Twilio: {type(exc).__name__}",
                                 code="transport_ambiguous") from None
    raise_for_twilio(response)
    return response


def raise_for_twilio(response: httpx.Response) -> None:
    """429, 5xx and error 20429 are retryable; every other 4xx is permanent with Twilio's reason."""
    status = response.status_code
    if status < 400:
        return
    error = _error_body(response)
    reason = error.message or response.text[:500] or response.reason_phrase
    label = f"Twilio error {error.code}: {reason}" if error.code else f"Twilio {status}: {reason}"
    code = f"twilio_{error.code}" if error.code else f"http_{status}"
    if status == 429 or status >= 500 or error.code in RETRYABLE_CODES:
        raise RetryableSendError(label, retry_after=retry_after(response), code=code)
    raise PermanentSendError(label, code=code)


def retry_after(response: httpx.Response) -> float | None:
    header = response.headers.get("retry-after")
    if not header:
        return None
    try:
        value = float(header)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _error_body(response: httpx.Response) -> TwilioErrorBody:
    try:
        return TwilioErrorBody.model_validate_json(response.content or b"{}")
    except ValidationError:
        return TwilioErrorBody()


def _require(account: AccountConfig, key: str) -> object:
    value = account.get(key)
    if value in (None, ""):
        raise PermanentSendError(f"channel account is missing config key {key!r}",
                                 code="account_misconfigured")
    return value


def get_json(http: httpx.Client, account: AccountConfig, resource: str,
             params: Sequence[tuple[str, str]]) -> bytes:
    """GET a list resource (used to reconcile sends); failures map like sends do."""
    try:
        response = http.get(resource_url(account, resource), params=list(params),
                            auth=auth(account), headers={"accept": "application/json"},
                            follow_redirects=False)
    except httpx.TransportError as exc:
        raise RetryableSendError(f"no answer from Twilio: {type(exc).__name__}",
                                 code="transport_unreached") from None
    raise_for_twilio(response)
    return response.content
