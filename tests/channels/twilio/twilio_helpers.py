"""Shared helpers of the Twilio adapter tests: fixtures and signed requests."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from threadline.channels.base import AccountConfig, WebhookRequest
from threadline.channels.twilio.signature import compute_signature

AUTH_TOKEN = "test_auth_token"
ACCOUNT_SID = "AC" + "0" * 32
CONFIG: dict[str, Any] = {
    "account_sid": ACCOUNT_SID,
    "auth_token": AUTH_TOKEN,
    "from_number": "+15559870000",
    "api_base_url": "https://api.twilio.com",
}
SMS = AccountConfig(id="acct-sms-1", kind="sms", name="SMS line", config=CONFIG)
VOICE = AccountConfig(id="acct-voice-1", kind="voice", name="Phone line", config=CONFIG)


def fixture(name: str) -> dict[str, Any]:
    text = resources.files("threadline.channels.twilio").joinpath("fixtures", name).read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def fixture_names() -> list[str]:
    folder = resources.files("threadline.channels.twilio").joinpath("fixtures")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))


def signed_request(url: str, params: dict[str, str], token: str = AUTH_TOKEN,
                   signature: str | None = None) -> WebhookRequest:
    pairs = list(params.items())
    sig = compute_signature(token, url, pairs) if signature is None else signature
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if sig:
        headers["x-twilio-signature"] = sig
    return WebhookRequest(method="POST", url=url, headers=headers, query={},
                          body=urlencode(pairs).encode())


def fixture_request(name: str) -> WebhookRequest:
    data = fixture(name)
    return signed_request(data["url"], data["params"])
