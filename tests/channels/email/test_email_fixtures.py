"""Every fixture in fixtures/index.json normalises to what the index says."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from tests.channels.email.email_helpers import FIXTURES, make_account
from threadline.channels.base import (
    AccountConfig,
    DeliveryState,
    InboundMessage,
    PayloadError,
    SignatureError,
    StatusUpdate,
    Visibility,
    WebhookRequest,
)
from threadline.channels.email import parsing
from threadline.channels.email.adapter import EmailAdapter
from threadline.channels.email.payloads import StoredEmail

INDEX: dict[str, Any] = {k: v for k, v in json.loads((FIXTURES / "index.json").read_text()).items()
                         if not k.startswith("_")}


def stored(name: str, **extra: Any) -> dict[str, Any]:
    raw = (FIXTURES / name).read_bytes()
    return StoredEmail.from_bytes(raw, mailbox="INBOX", uidvalidity=7, uid=3,
                                  **extra).model_dump(mode="json")


def test_every_eml_is_indexed() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.eml")) == sorted(INDEX)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_event_id(name: str) -> None:
    key = parsing.event_key_of((FIXTURES / name).read_bytes())
    assert key.startswith(INDEX[name]["event_id"])
    if INDEX[name]["event_id"] == "hash:":
        assert len(key) == len("hash:") + 64


@pytest.mark.parametrize("name", sorted(INDEX))
def test_fixture_normalises(name: str, adapter: EmailAdapter, account: AccountConfig) -> None:
    expect = INDEX[name]["expect"]
    items = adapter.normalize(account, stored(name))
    if expect["type"] == "none":
        assert items == []
        return
    assert len(items) == 1
    item = items[0]
    if expect["type"] == "status":
        assert isinstance(item, StatusUpdate)
        assert item.provider_id == expect["provider_id"]
        assert item.state is DeliveryState(expect["state"])
        assert item.at.tzinfo is not None
        if "error_contains" in expect:
            assert expect["error_contains"] in (item.error or "")
        if "at" in expect:
            assert item.at == datetime.fromisoformat(expect["at"])
        return
    assert isinstance(item, InboundMessage)
    assert item.visibility is Visibility.PRIVATE
    assert item.thread_key is None
    assert item.created_at.utcoffset() is not None and item.created_at.utcoffset().seconds == 0
    assert item.author.identity_kind == "email"
    assert item.meta["imap"] == {"mailbox": "INBOX", "uidvalidity": 7, "uid": 3}
    simple = {"provider_id", "subject", "in_reply_to", "link_token", "text", "root_provider_id"}
    for key in simple & expect.keys():
        assert getattr(item, key) == expect[key], key
    if "author" in expect:
        assert item.author.provider_user_id == expect["author"]
        assert item.author.handle == expect["author"]
    if "display_name" in expect:
        assert item.author.display_name == expect["display_name"]
    assert item.author.is_self is expect.get("is_self", False)
    if "created_at" in expect:
        assert item.created_at == datetime.fromisoformat(expect["created_at"])
    if "references" in expect:
        assert list(item.references) == expect["references"]
    if "auto_reply" in expect:
        assert item.meta["auto_reply"] is expect["auto_reply"]
    if "signals" in expect:
        assert item.meta["auto_reply_signals"] == expect["signals"]
    if "html_contains" in expect:
        assert expect["html_contains"] in (item.html or "")
    if "provider_id_prefix" in expect:
        assert item.provider_id.startswith(expect["provider_id_prefix"])
    if "attachments" in expect:
        got = [{"type": a.type, "mime_type": a.mime_type, "name": a.name,
                "provider_media_id": a.provider_media_id} for a in item.attachments]
        assert got == expect["attachments"]
        assert all(a.size for a in item.attachments)


class TestNoWebhook:
    def test_verify_refuses(self, adapter: EmailAdapter, account: AccountConfig) -> None:
        request = WebhookRequest("POST", "http://t/webhooks/email/a", {}, {}, b"x")
        with pytest.raises(SignatureError):
            adapter.verify(account, request)
        with pytest.raises(PayloadError):
            adapter.split(account, request)
        assert adapter.handshake(account, request) is None


class TestReplyTokens:
    def test_signed_token_verified(self, adapter: EmailAdapter) -> None:
        from threadline.channels.email import tokens
        from threadline.channels.email.adapter import config_of

        signed = make_account(reply_token_secret="k3y")
        token = tokens.token_for(config_of(signed), "m-1")
        assert token is not None and token.startswith("m-1.") and len(token) == len("m-1.") + 12
        raw = (f"From: a@example.com\nTo: support+tl-{token}@acme-support.com\n"
               "Date: Wed, 05 Mar 2025 10:15:00 +0000\nMessage-ID: <q@e>\n\nhi\n").encode()
        items = adapter.normalize(signed, StoredEmail.from_bytes(raw).model_dump())
        assert isinstance(items[0], InboundMessage)
        assert items[0].link_token == "msg:m-1"

    @pytest.mark.parametrize("to", ["support+tl-m-1@acme-support.com",
                                    "support+tl-m-1.000000000000@acme-support.com"])
    def test_unsigned_or_forged_token_ignored_with_secret(self, adapter: EmailAdapter,
                                                          to: str) -> None:
        signed = make_account(reply_token_secret="k3y")
        raw = (f"From: a@example.com\nTo: {to}\nDate: Wed, 05 Mar 2025 10:15:00 +0000\n"
               "Message-ID: <q@e>\n\nhi\n").encode()
        items = adapter.normalize(signed, StoredEmail.from_bytes(raw).model_dump())
        assert isinstance(items[0], InboundMessage)
        assert items[0].link_token is None

    def test_foreign_domain_message_id_is_not_a_token(self, adapter: EmailAdapter,
                                                      account: AccountConfig) -> None:
        raw = (b"From: a@example.com\nTo: support@acme-support.com\n"
               b"In-Reply-To: <tl-m-1@elsewhere.example>\n"
               b"Date: Wed, 05 Mar 2025 10:15:00 +0000\nMessage-ID: <q@e>\n\nhi\n")
        items = adapter.normalize(account, StoredEmail.from_bytes(raw).model_dump())
        assert isinstance(items[0], InboundMessage)
        assert items[0].in_reply_to == "<tl-m-1@elsewhere.example>"
        assert items[0].link_token is None


class TestMalformed:
    @pytest.mark.parametrize("payload", [
        {}, {"raw": 5}, {"raw": "!!!not base64!!!"}, {"raw": ""}, {"raw": "", "encoding": "utf-8"},
        {"raw": "aGVsbG8=", "encoding": "rot13"}, {"raw": "aGk=", "uid": -1},
    ])
    def test_bad_payload(self, adapter: EmailAdapter, account: AccountConfig,
                         payload: dict[str, Any]) -> None:
        with pytest.raises(PayloadError):
            adapter.normalize(account, payload)

    def test_no_sender(self, adapter: EmailAdapter, account: AccountConfig) -> None:
        raw = b"Subject: hi\nDate: Wed, 05 Mar 2025 10:15:00 +0000\n\nbody\n"
        with pytest.raises(PayloadError) as info:
            adapter.normalize(account, StoredEmail.from_bytes(raw).model_dump())
        assert info.value.code == "no_sender"

    def test_no_date_falls_back_to_internaldate(self, adapter: EmailAdapter,
                                                account: AccountConfig) -> None:
        raw = b"From: a@example.com\nSubject: hi\n\nbody\n"
        with pytest.raises(PayloadError):
            adapter.normalize(account, StoredEmail.from_bytes(raw).model_dump())
        payload = StoredEmail.from_bytes(raw, internaldate="05-Mar-2025 10:15:00 +0100")
        item = adapter.normalize(account, payload.model_dump())[0]
        assert isinstance(item, InboundMessage)
        assert item.created_at == datetime.fromisoformat("2025-03-05T09:15:00+00:00")

    def test_utf8_stored_form_accepted(self, adapter: EmailAdapter,
                                       account: AccountConfig) -> None:
        raw = "From: a@example.com\nDate: Wed, 05 Mar 2025 10:15:00 +0000\n\nhéllo\n"
        items = adapter.normalize(account, {"raw": raw, "encoding": "utf-8"})
        assert isinstance(items[0], InboundMessage)
        assert items[0].text == "héllo"
