"""Telegram: secret token, every update fixture, edits, sends and policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from telegram_helpers import (
    ACCOUNT,
    BOT_TOKEN,
    CONFIG,
    SECRET,
    fixture,
    fixture_request,
    request,
    update_fixtures,
)

from threadline.channels.base import (
    AccountConfig,
    Attachment,
    DeliveryState,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    MessageKind,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    SignatureError,
    Visibility,
)
from threadline.channels.registry import get_adapter
from threadline.channels.telegram.adapter import TelegramAdapter

ADAPTER = TelegramAdapter()
SEND_URL = f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage"
NOW = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
CONTEXT = SendContext(now=NOW, last_inbound_at=NOW - timedelta(days=30))


def _items(name: str) -> list[object]:
    req = fixture_request(name)
    ADAPTER.verify(ACCOUNT, req)
    events = ADAPTER.split(ACCOUNT, req)
    return [i for e in events for i in ADAPTER.normalize(ACCOUNT, json.loads(json.dumps(
        e.payload)))]


def _one(name: str) -> InboundMessage:
    [item] = _items(name)
    assert isinstance(item, InboundMessage)
    return item


def _message(text: str = "Sure, what's your booking reference?", **kw: object) -> OutboundMessage:
    values: dict[str, object] = {"message_id": "m-1", "visibility": Visibility.PRIVATE,
                                 "text": text, "recipient": "700100200",
                                 "thread_key": "tg:700100200"}
    values.update(kw)
    return OutboundMessage(**values)  # type: ignore[arg-type]


class TestSecretToken:
    def test_registry_and_traits(self) -> None:
        adapter = get_adapter("telegram")
        assert isinstance(adapter, TelegramAdapter)
        assert adapter.traits.char_limit == 4096
        assert adapter.traits.public and adapter.traits.private
        assert adapter.traits.identity_kind == "telegram" and adapter.traits.window_hours is None

    def test_channels_md_secret_is_accepted(self) -> None:
        vector = fixture("webhook_secret.json")
        assert vector["secret_token"] == SECRET
        ADAPTER.verify(ACCOUNT, fixture_request("message_private.json"))

    def test_missing_header(self) -> None:
        with pytest.raises(SignatureError) as info:
            ADAPTER.verify(ACCOUNT, request(b"{}", secret=None))
        assert info.value.code == "missing_signature"

    @pytest.mark.parametrize("secret", ["wrong", SECRET + "x", SECRET[:-1], "ü"])
    def test_wrong_secret(self, secret: str) -> None:
        with pytest.raises(SignatureError):
            ADAPTER.verify(ACCOUNT, request(b"{}", secret=secret))

    def test_no_handshake_and_plain_ack(self) -> None:
        req = fixture_request("message_private.json")
        assert ADAPTER.handshake(ACCOUNT, req) is None
        assert ADAPTER.ack(ACCOUNT, req).status == 200


class TestInbound:
    def test_every_update_fixture_splits_with_update_id(self) -> None:
        for name in update_fixtures():
            for event in ADAPTER.split(ACCOUNT, fixture_request(name)):
                assert event.provider_event_id == f"update:{fixture(name)['update_id']}"

    def test_private_message(self) -> None:
        item = _one("message_private.json")
        assert item.provider_id == "700100200:5120"
        assert item.in_reply_to == "700100200:5118"
        assert item.thread_key == "tg:700100200"
        assert item.visibility is Visibility.PRIVATE and item.kind is MessageKind.MESSAGE
        assert item.author.identity_kind == "telegram"
        assert item.author.provider_user_id == "700100200"
        assert item.author.handle == "janedoe" and item.author.display_name == "Jane Doe"
        assert not item.author.is_self
        assert item.created_at == datetime.fromtimestamp(1741170000, UTC)
        assert item.meta["update_id"] == 872345001

    def test_photo_keeps_the_largest_size_and_caption(self) -> None:
        item = _one("message_private_photo.json")
        assert item.text == "This is the damaged suitcase"
        [photo] = item.attachments
        assert photo.type == "image" and photo.provider_media_id == "AgACAgQAAxkBAAIBlarge"

    def test_document(self) -> None:
        [doc] = _one("message_private_document.json").attachments
        assert doc.type == "file" and doc.name == "receipt.pdf"
        assert doc.mime_type == "application/pdf"

    def test_own_contact_becomes_a_phone_coordinate(self) -> None:
        item = _one("message_contact.json")
        assert [(c.kind, c.address) for c in item.author.coordinates] == [
            ("phone", "+15551230000")]

    def test_location(self) -> None:
        [loc] = _one("message_location.json").attachments
        assert loc.type == "location" and loc.url == "geo:52.370216,4.895168"

    def test_edit(self) -> None:
        [edit] = _items("edited_message.json")
        assert isinstance(edit, MessageEdit)
        assert edit.provider_id == "700100200:5120"
        assert edit.text.endswith("ABC123")
        assert edit.at == datetime.fromtimestamp(1741170300, UTC)

    def test_group_message_is_public_without_thread_key(self) -> None:
        item = _one("message_group.json")
        assert item.visibility is Visibility.PUBLIC and item.kind is MessageKind.POST
        assert item.thread_key is None
        assert item.provider_id == "-1001234567890:881"

    def test_group_reply_links_to_its_parent(self) -> None:
        item = _one("message_group_reply.json")
        assert item.kind is MessageKind.COMMENT
        assert item.in_reply_to == "-1001234567890:881"

    def test_channel_post_of_our_own_channel(self) -> None:
        item = _one("channel_post.json")
        assert item.visibility is Visibility.PUBLIC and item.kind is MessageKind.POST
        assert item.author.provider_user_id == "-1009876543210"
        assert item.author.display_name == "Acme Status" and item.author.is_self

    def test_channel_post_of_another_channel_is_not_self(self) -> None:
        account = AccountConfig("a", "telegram", "n", {**CONFIG, "own_chat_ids": []})
        [event] = ADAPTER.split(account, fixture_request("channel_post.json"))
        [item] = ADAPTER.normalize(account, event.payload)
        assert isinstance(item, InboundMessage) and not item.author.is_self

    def test_edited_channel_post(self) -> None:
        [edit] = _items("edited_channel_post.json")
        assert isinstance(edit, MessageEdit) and edit.provider_id == "-1009876543210:310"

    @pytest.mark.parametrize("name", ["message_reaction.json", "service_new_chat_members.json"])
    def test_ignored_updates_store_nothing(self, name: str) -> None:
        assert ADAPTER.split(ACCOUNT, fixture_request(name)) == []

    def test_a_tapped_inline_button_is_an_item_with_its_callback_data(self) -> None:
        [event] = ADAPTER.split(ACCOUNT, fixture_request("callback_query.json"))
        assert event.provider_event_id == "update:872345011"
        [item] = ADAPTER.normalize(ACCOUNT, event.payload)
        assert isinstance(item, InboundMessage)
        assert item.provider_id == "callback:4382bfdwdsb323b2d9"
        assert item.visibility.value == "private" and item.thread_key == "tg:700100200"
        assert item.in_reply_to == "700100200:5125" and item.text == "csat:5"
        assert item.author.provider_user_id == "700100200" and not item.author.is_self
        assert item.meta["callback_data"] == "csat:5"
        assert item.meta["callback_query_id"] == "4382bfdwdsb323b2d9"

    def test_a_callback_without_data_stores_nothing(self) -> None:
        update = fixture("callback_query.json")
        del update["callback_query"]["data"]  # a game's button: nothing for us
        assert ADAPTER.split(ACCOUNT, request(json.dumps(update).encode())) == []

    def test_business_deletes(self) -> None:
        deletes = _items("deleted_business_messages.json")
        assert [d.provider_id for d in deletes if isinstance(d, MessageDelete)] == [
            "700100200:5121", "700100200:5122"]

    def test_message_from_our_bot_is_self(self) -> None:
        update = fixture("message_group.json")
        update["message"]["from"] = {"id": 6000000001, "is_bot": True, "first_name": "AcmeBot"}
        [event] = ADAPTER.split(ACCOUNT, request(json.dumps(update).encode()))
        [item] = ADAPTER.normalize(ACCOUNT, event.payload)
        assert isinstance(item, InboundMessage) and item.author.is_self

    @pytest.mark.parametrize("body", [b"", b"[]", b"null", b"{", b'{"message": {}}',
                                      b'{"update_id": "x"}', b'{"update_id": -1}',
                                      b'{"update_id": 1, "message": {"message_id": 1}}',
                                      b'{"update_id": 1, "message": {"message_id": 1, '
                                      b'"chat": {"id": 1, "type": "private"}, "date": -5}}'])
    def test_malformed_bodies(self, body: bytes) -> None:
        with pytest.raises(PayloadError):
            ADAPTER.split(ACCOUNT, request(body))

    @pytest.mark.parametrize("payload", [{}, {"update": []}, {"update": {"update_id": "z"}}])
    def test_malformed_stored_payloads(self, payload: dict[str, object]) -> None:
        with pytest.raises(PayloadError):
            ADAPTER.normalize(ACCOUNT, payload)


class TestSend:
    @respx.mock
    def test_private_reply(self) -> None:
        route = respx.post(SEND_URL).mock(
            return_value=httpx.Response(200, json=fixture("send_message_ok.json")))
        with httpx.Client() as http:
            result = ADAPTER.send(ACCOUNT, _message(in_reply_to="700100200:5120"), http)
        assert result.provider_id == "700100200:5126" and result.state is DeliveryState.SENT
        body = json.loads(route.calls.last.request.content)
        assert body == {"chat_id": 700100200, "text": "Sure, what's your booking reference?",
                        "reply_parameters": {"message_id": 5120,
                                             "allow_sending_without_reply": True}}

    @respx.mock
    def test_public_reply_in_a_group(self) -> None:
        route = respx.post(SEND_URL).mock(
            return_value=httpx.Response(200, json=fixture("send_message_ok.json")))
        message = _message("Yes, about 40 minutes.", visibility=Visibility.PUBLIC,
                           recipient="700100300", thread_key=None,
                           in_reply_to="-1001234567890:881")
        with httpx.Client() as http:
            ADAPTER.send(ACCOUNT, message, http)
        body = json.loads(route.calls.last.request.content)
        assert body["chat_id"] == -1001234567890
        assert body["reply_parameters"]["message_id"] == 881

    @respx.mock
    def test_private_answer_to_a_group_message_replies_across_chats(self) -> None:
        route = respx.post(SEND_URL).mock(
            return_value=httpx.Response(200, json=fixture("send_message_ok.json")))
        message = _message(recipient="700100300", thread_key=None,
                           in_reply_to="-1001234567890:881")
        with httpx.Client() as http:
            ADAPTER.send(ACCOUNT, message, http)
        body = json.loads(route.calls.last.request.content)
        assert body["chat_id"] == 700100300
        assert body["reply_parameters"]["chat_id"] == -1001234567890

    @respx.mock
    def test_429_honours_retry_after_parameter(self) -> None:
        respx.post(SEND_URL).mock(
            return_value=httpx.Response(429, json=fixture("send_message_429.json")))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, _message(), http)
        assert info.value.retry_after == 5 and info.value.code == "telegram_429"

    @respx.mock
    def test_429_with_header_only(self) -> None:
        respx.post(SEND_URL).mock(return_value=httpx.Response(
            429, json={"ok": False, "error_code": 429}, headers={"Retry-After": "3"}))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, _message(), http)
        assert info.value.retry_after == 3

    @respx.mock
    def test_5xx_is_retryable(self) -> None:
        respx.post(SEND_URL).mock(return_value=httpx.Response(502, text="Bad Gateway"))
        with httpx.Client() as http, pytest.raises(RetryableSendError):
            ADAPTER.send(ACCOUNT, _message(), http)

    @respx.mock
    def test_blocked_bot_is_permanent_with_reason(self) -> None:
        respx.post(SEND_URL).mock(
            return_value=httpx.Response(403, json=fixture("send_message_403.json")))
        with httpx.Client() as http, pytest.raises(PermanentSendError) as info:
            ADAPTER.send(ACCOUNT, _message(), http)
        assert "bot was blocked by the user" in info.value.message
        assert info.value.code == "telegram_403"

    @respx.mock
    def test_migrated_group(self) -> None:
        respx.post(SEND_URL).mock(
            return_value=httpx.Response(400, json=fixture("send_message_400_migrated.json")))
        with httpx.Client() as http, pytest.raises(PermanentSendError) as info:
            ADAPTER.send(ACCOUNT, _message(visibility=Visibility.PUBLIC, thread_key=None,
                                           in_reply_to="-1001234567890:881"), http)
        assert info.value.code == "telegram_chat_migrated"
        assert "-1001234567891" in info.value.message

    @respx.mock
    def test_transport_error_hides_the_token(self) -> None:
        respx.post(SEND_URL).mock(side_effect=httpx.ConnectError(f"failed {SEND_URL}"))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, _message(), http)
        assert BOT_TOKEN not in str(info.value)

    def test_secrets_are_not_in_the_repr(self) -> None:
        assert BOT_TOKEN not in repr(ACCOUNT) and SECRET not in repr(ACCOUNT)


class TestPolicy:
    def test_private_reply_without_any_window(self) -> None:
        ADAPTER.check_send(ACCOUNT, _message(), CONTEXT)

    def test_limit_4096(self) -> None:
        ADAPTER.check_send(ACCOUNT, _message("x" * 4096), CONTEXT)
        with pytest.raises(SendPolicyError) as info:
            ADAPTER.check_send(ACCOUNT, _message("x" * 4097), CONTEXT)
        assert info.value.code == "too_long" and "4096" in info.value.allowed[0]

    def test_bot_cannot_start_a_private_chat(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            ADAPTER.check_send(ACCOUNT, _message(), SendContext(now=NOW))
        assert info.value.code == "bot_cannot_start_chat" and info.value.allowed == ["public"]

    def test_public_needs_no_prior_inbound(self) -> None:
        ADAPTER.check_send(ACCOUNT, _message(visibility=Visibility.PUBLIC, thread_key=None,
                                             in_reply_to="-1001234567890:881"),
                           SendContext(now=NOW))

    @pytest.mark.parametrize("message", [
        _message("   "),
        _message(attachments=(Attachment(type="image", url="https://x/1.jpg"),) * 2),
        _message("x" * 1025, attachments=(Attachment(type="image", url="https://x/1.jpg"),)),
        _message(recipient=None, thread_key=None),
        _message(visibility=Visibility.PUBLIC, thread_key=None, in_reply_to=None),
    ])
    def test_refused(self, message: OutboundMessage) -> None:
        with pytest.raises(SendPolicyError):
            ADAPTER.check_send(ACCOUNT, message, CONTEXT)
