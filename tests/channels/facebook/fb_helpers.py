"""Builders for the Facebook/Messenger adapter tests (see tests/channels/meta_helpers.py)."""

from __future__ import annotations

from tests.channels.meta_helpers import BASE, NOW, SECRET, MetaKit, context, json_values, mutate
from threadline.channels.facebook.adapter import FacebookAdapter

PAGE_ID = "1234567890"
kit = MetaKit(FacebookAdapter(), kind="facebook", account_id="acc-fb", name="Acme Page",
              config={"access_token": "EAAG-page-token", "page_id": PAGE_ID})
adapter = kit.adapter
FIXTURES = kit.fixtures
account = kit.account
fixture_bytes = kit.fixture_bytes
fixture_names = kit.fixture_names
post = kit.post
get = kit.get
parse = kit.parse

__all__ = [
              "BASE",
              "FIXTURES",
              "NOW",
              "PAGE_ID",
              "SECRET",
              "account",
              "adapter",
              "context",
              "fixture_bytes",
              "fixture_names",
              "get",
              "json_values",
              "mutate",
              "parse",
              "post",
]
