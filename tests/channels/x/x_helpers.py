"""Shared helpers for the X adapter tests: fixture bodies, a test account, signed requests."""

from __future__ import annotations

from pathlib import Path

from threadline.channels.base import AccountConfig, WebhookRequest
from threadline.channels.x.adapter import XAdapter, sign

FIXTURES = Path(__file__).parents[3] / "src" / "threadline" / "channels" / "x" / "fixtures"
SECRET = "test_consumer_secret"
OWN_ID = "2244994945"
API = "https://api.x.com"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def inbound_fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json")
                  if not p.name.startswith("v2_") and p.name != "signature_vector_body.json")


def make_account(**extra: object) -> AccountConfig:
    config: dict[str, object] = {
        "consumer_key": "ck", "consumer_secret": SECRET, "access_token": f"{OWN_ID}-at",
        "access_token_secret": "ats", "user_id": OWN_ID, "api_base_url": API}
    config.update(extra)
    return AccountConfig(id="acc-x", kind="x", name="Acme on X", config=config)


def signed_request(body: bytes, secret: str = SECRET) -> WebhookRequest:
    return WebhookRequest(method="POST", url="https://threadline.test/webhooks/x/acc-x",
                          headers={"x-twitter-webhooks-signature": sign(secret, body),
                                   "content-type": "application/json"},
                          query={}, body=body)


ADAPTER = XAdapter()
