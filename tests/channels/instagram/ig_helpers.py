"""Builders for the Instagram adapter tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from threadline.channels.base import AccountConfig, SendContext, WebhookRequest
from threadline.channels.instagram.adapter import InstagramAdapter
from threadline.channels.meta_common import sign

FIXTURES = Path(__file__).parents[3] / "src/threadline/channels/instagram/fixtures"
SECRET = "test_app_secret"
BASE = "https://graph.test"
IG_ID = "17841400000000000"
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)

adapter = InstagramAdapter()


def account(**extra: Any) -> AccountConfig:
    config = {"app_secret": SECRET, "verify_token": "tok-123", "access_token": "EAAG-page-token",
              "ig_user_id": IG_ID, "api_base_url": BASE, **extra}
    return AccountConfig(id="acc-ig", kind="instagram", name="Acme IG", config=config)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json") if p.name != "signature_vector_body.json")


def post(body: bytes, *, signature: str | None = "auto") -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if signature == "auto":
        headers["x-hub-signature-256"] = sign(SECRET, body)
    elif signature is not None:
        headers["x-hub-signature-256"] = signature
    return WebhookRequest(method="POST", url="https://tl.test/webhooks/instagram/acc-ig",
                          headers=headers, query={}, body=body)


def get(query: dict[str, str]) -> WebhookRequest:
    return WebhookRequest(method="GET", url="https://tl.test/webhooks/instagram/acc-ig",
                          headers={}, query=query, body=b"")


def parse(body: bytes) -> list[Any]:
    acc = account()
    items: list[Any] = []
    for event in adapter.split(acc, post(body)):
        json.dumps(event.payload)  # stored events must be JSON
        items.extend(adapter.normalize(acc, event.payload))
    return items


def context(*, inbound_hours_ago: float | None = 1.0, **kwargs: Any) -> SendContext:
    last = None if inbound_hours_ago is None else NOW - timedelta(hours=inbound_hours_ago)
    return SendContext(now=NOW, last_inbound_at=last, **kwargs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25)


def mutate(value: Any, data: st.DataObject) -> Any:
    """Replace one random node of a JSON tree by a random JSON value."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        return {**value, key: mutate(value[key], data)}
    if isinstance(value, list) and value and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], mutate(value[index], data), *value[index + 1:]]
    return data.draw(json_values)
