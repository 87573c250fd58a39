"""Builders for the WhatsApp adapter tests (see tests/channels/meta_helpers.py)."""

from __future__ import annotations

from tests.channels.meta_helpers import BASE, NOW, SECRET, MetaKit, context, json_values, mutate
from threadline.channels.whatsapp.adapter import WhatsAppAdapter

NUMBER_ID = "106540352242922"
kit = MetaKit(WhatsAppAdapter(), kind="whatsapp", account_id="acc-wa", name="Acme WhatsApp",
              config={"access_token": "EAAG-sys-token", "phone_number_id": NUMBER_ID})
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
              "NUMBER_ID",
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
