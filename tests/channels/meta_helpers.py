"""Shared builders for the Meta adapter tests (Facebook/Messenger, Instagram, WhatsApp)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from threadline.channels.base import AccountConfig, ChannelAdapter, SendContext, WebhookRequest
from threadline.channels.meta_common import sign

SRC = Path(__file__).parents[2] / "src/threadline/channels"
SECRET = "test_app_secret"
BASE = "https://graph.facebook.com"
NOW = datetime(2025, 3, 5, 12, 0, tzinfo=UTC)


class MetaKit:
    """Account, requests and parsing for one Meta adapter under test."""

    def __init__(self, adapter: ChannelAdapter, *, kind: str, account_id: str, name: str,
                 config: dict[str, Any]) -> None:
        self.adapter = adapter
        self.kind = kind
        self.account_id = account_id
        self.name = name
        self.config = config
        self.fixtures = SRC / kind / "fixtures"
        self.url = f"https://tl.test/webhooks/{kind}/{account_id}"

    def account(self, **extra: Any) -> AccountConfig:
        config = {"app_secret": SECRET, "verify_token": "tok-123", "api_base_url": BASE,
                  **self.config, **extra}
        return AccountConfig(id=self.account_id, kind=self.kind, name=self.name, config=config)

    def fixture_bytes(self, name: str) -> bytes:
        return (self.fixtures / name).read_bytes()

    def fixture_names(self) -> list[str]:
        return sorted(p.name for p in self.fixtures.glob("*.json")
                      if p.name != "signature_vector_body.json")

    def post(self, body: bytes, *, signature: str | None = "auto") -> WebhookRequest:
        headers = {"content-type": "application/json"}
        if signature == "auto":
            headers["x-hub-signature-256"] = sign(SECRET, body)
        elif signature is not None:
            headers["x-hub-signature-256"] = signature
        return WebhookRequest(method="POST", url=self.url, headers=headers, query={},
                              body=body)

    def get(self, query: dict[str, str]) -> WebhookRequest:
        return WebhookRequest(method="GET", url=self.url, headers={}, query=query, body=b"")

    def parse(self, body: bytes) -> list[Any]:
        acc = self.account()
        items: list[Any] = []
        for event in self.adapter.split(acc, self.post(body)):
            json.dumps(event.payload)  # stored events must be JSON
            items.extend(self.adapter.normalize(acc, event.payload))
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
