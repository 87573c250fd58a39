"""Builders for the Instagram adapter tests (see tests/channels/meta_helpers.py)."""

from __future__ import annotations

from tests.channels.meta_helpers import BASE, NOW, SECRET, MetaKit, context, json_values, mutate
from threadline.channels.instagram.adapter import InstagramAdapter

IG_ID = "17841400000000000"
kit = MetaKit(InstagramAdapter(), kind="instagram", account_id="acc-ig", name="Acme IG",
              config={"access_token": "EAAG-page-token", "ig_user_id": IG_ID})
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
              "IG_ID",
              "NOW",
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
