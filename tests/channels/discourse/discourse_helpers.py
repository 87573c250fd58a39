"""Shared helpers of the Discourse adapter tests."""

from __future__ import annotations

import hashlib
import hmac
import json
from importlib import resources
from typing import Any

from threadline.channels.base import AccountConfig, UrlPolicy, WebhookRequest

SECRET = "discourse-webhook-secret-1"
FORUM = "https://community.example.com"
CONFIG: dict[str, Any] = {"api_base_url": FORUM, "api_key": "k" * 64,
                          "api_username": "acme_support", "webhook_secret": SECRET}
ACCOUNT = AccountConfig(id="acct-dc-1", kind="discourse", name="Acme community",
                        config=CONFIG, urls=UrlPolicy(allow_custom=True))
URL = "https://care.example.com/webhooks/discourse/acct-dc-1"


def fixture(name: str) -> dict[str, Any]:
    folder = resources.files("threadline.channels.discourse").joinpath("fixtures")
    data: dict[str, Any] = json.loads(folder.joinpath(name).read_text())
    return data


def fixture_names() -> list[str]:
    folder = resources.files("threadline.channels.discourse").joinpath("fixtures")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))


def webhook_fixtures() -> list[str]:
    return [n for n in fixture_names() if "headers" in fixture(n) and "body" in fixture(n)
            and "status" not in fixture(n)]


def signed(body: bytes, headers: dict[str, str], secret: str | None = SECRET) -> WebhookRequest:
    lower = {k.lower(): v for k, v in headers.items()}
    if secret is not None:
        lower["x-discourse-event-signature"] = "sha256=" + hmac.new(
            secret.encode(), body, hashlib.sha256).hexdigest()
    return WebhookRequest("POST", URL, lower, {}, body)


def fixture_request(name: str) -> WebhookRequest:
    data = fixture(name)
    return signed(json.dumps(data["body"]).encode(), data["headers"])
