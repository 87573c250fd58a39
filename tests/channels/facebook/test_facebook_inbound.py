"""Facebook Page + Messenger inbound: signature, handshake, fixtures, dedupe keys, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fb_helpers import (
    SECRET,
    account,
    adapter,
    fixture_bytes,
    fixture_names,
    get,
    parse,
    post,
)

from threadline.channels.base import (
    DeliveryState,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    MessageKind,
    PayloadError,
    SignatureError,
    StatusUpdate,
    Visibility,
)
from threadline.channels.meta_common import sign, sign_sha1


def ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class TestSignature:
    def test_meta_sha256_vector(self) -> None:
        body = fixture_bytes("signature_vector_body.json")
        assert body == b'{"object":"page","entry":[]}'
        assert sign(SECRET, body) == (
            "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf")

    def test_meta_sha1_vector(self) -> None:
        body = fixture_bytes("signature_vector_body.json")
        assert sign_sha1(SECRET, body) == "sha1=eb935a8cb91fd3b72ab4cd92acd4498e6e688bb0"

    def test_sanity_vector(self) -> None:
        assert sign("secret", b"test") == (
            "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914")

    def test_vector_verifies(self) -> None:
        body = fixture_bytes("signature_vector_body.json")
        signature = "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf"
        adapter.verify(account(), post(body, signature=signature))
        assert adapter.split(account(), post(body)) == []

    def test_wrong_signature(self) -> None:
        body = fixture_bytes("messenger_message.json")
        with pytest.raises(SignatureError):
            adapter.verify(account(), post(body, signature="sha256=" + "0" * 64))

    def test_signature_of_other_secret(self) -> None:
        body = fixture_bytes("messenger_message.json")
        with pytest.raises(SignatureError):
            adapter.verify(account(), post(body, signature=sign("other", body)))

    def test_body_changed_after_signing(self) -> None:
        body = fixture_bytes("messenger_message.json")
        request = post(body, signature=sign(SECRET, body + b" "))
        with pytest.raises(SignatureError):
            adapter.verify(account(), request)

    def test_missing_signature(self) -> None:
        with pytest.raises(SignatureError) as info:
            adapter.verify(account(), post(b"{}", signature=None))
        assert info.value.code == "missing_signature"

    def test_legacy_sha1_only_when_configured(self) -> None:
        body = fixture_bytes("signature_vector_body.json")
        request = post(body, signature=None)
        headers = {**request.headers, "x-hub-signature": sign_sha1(SECRET, body)}
        legacy = type(request)(method="POST", url=request.url, headers=headers, query={},
                               body=body)
        with pytest.raises(SignatureError):
            adapter.verify(account(), legacy)
        adapter.verify(account(accept_legacy_sha1=True), legacy)


class TestHandshake:
    def test_challenge_answered(self) -> None:
        response = adapter.handshake(account(), get({
            "hub.mode": "subscribe", "hub.verify_token": "tok-123", "hub.challenge": "1158201444"}))
        assert response is not None
        assert (response.status, response.body, response.media_type) == (
            200, b"1158201444", "text/plain")

    def test_underscore_names(self) -> None:
        response = adapter.handshake(account(), get({
            "hub_mode": "subscribe", "hub_verify_token": "tok-123", "hub_challenge": "42"}))
        assert response is not None and response.body == b"42"

    @pytest.mark.parametrize("query", [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "tok-123", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "tok-123"},
    ])
    def test_refused(self, query: dict[str, str]) -> None:
        response = adapter.handshake(account(), get(query))
        assert response is not None and response.status == 403

    def test_unconfigured_token_refuses(self) -> None:
        response = adapter.handshake(account(verify_token=""), get({
            "hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}))
        assert response is not None and response.status == 403

    def test_not_a_handshake(self) -> None:
        assert adapter.handshake(account(), get({})) is None
        assert adapter.handshake(account(), post(b"{}")) is None


class TestFeedFixtures:
    def test_comment_add(self) -> None:
        [item] = parse(fixture_bytes("feed_comment_add.json"))
        assert isinstance(item, InboundMessage)
        assert item.provider_id == "1234567890123_98765"
        assert (item.visibility, item.kind) == (Visibility.PUBLIC, MessageKind.COMMENT)
        assert item.in_reply_to == "1234567890_1234567890123"
        assert item.root_provider_id == "1234567890_1234567890123"
        assert item.thread_key is None
        assert item.author.identity_kind == "facebook"
        assert item.author.provider_user_id == "5550001"
        assert item.author.display_name == "Jane Doe"
        assert not item.author.is_self
        assert item.text == "Is this available in blue?"
        assert item.created_at == ts(1741169990)

    def test_reply_to_comment_points_at_parent_comment(self) -> None:
        [item] = parse(fixture_bytes("feed_comment_reply_add.json"))
        assert isinstance(item, InboundMessage)
        assert item.in_reply_to == "1234567890123_98765"
        assert item.root_provider_id == "1234567890_1234567890123"

    def test_page_comment_is_self(self) -> None:
        [item] = parse(fixture_bytes("feed_page_comment_echo.json"))
        assert isinstance(item, InboundMessage)
        assert item.author.is_self and item.meta["echo"] is True

    def test_edited(self) -> None:
        [item] = parse(fixture_bytes("feed_comment_edited.json"))
        assert item == MessageEdit(provider_id="1234567890123_98765",
                                   text="Is this available in navy blue?", at=ts(1741170200))

    def test_remove(self) -> None:
        [item] = parse(fixture_bytes("feed_comment_remove.json"))
        assert item == MessageDelete(provider_id="1234567890123_98765", at=ts(1741170300))

    def test_visitor_post(self) -> None:
        [item] = parse(fixture_bytes("feed_post_add.json"))
        assert isinstance(item, InboundMessage)
        assert (item.kind, item.visibility) == (MessageKind.POST, Visibility.PUBLIC)
        assert item.provider_id == item.root_provider_id == "1234567890_1234567890999"
        assert item.in_reply_to is None

    def test_photo_post_attachment(self) -> None:
        [item] = parse(fixture_bytes("feed_photo_post_add.json"))
        assert isinstance(item, InboundMessage)
        assert [a.type for a in item.attachments] == ["image"]
        assert item.attachments[0].url == "https://scontent.example.com/v/t39/box.jpg"

    def test_feed_identity_kind_configurable(self) -> None:
        acc = account(feed_identity_kind="messenger")
        [event] = adapter.split(acc, post(fixture_bytes("feed_comment_add.json")))
        [item] = adapter.normalize(acc, event.payload)
        assert isinstance(item, InboundMessage) and item.author.identity_kind == "messenger"


class TestMessengerFixtures:
    def test_message(self) -> None:
        [item] = parse(fixture_bytes("messenger_message.json"))
        assert isinstance(item, InboundMessage)
        assert item.provider_id == "m_AbCdEf123"
        assert (item.visibility, item.kind) == (Visibility.PRIVATE, MessageKind.MESSAGE)
        assert item.author.identity_kind == "messenger"
        assert item.author.provider_user_id == "6001002003"
        assert item.thread_key == "psid:6001002003"
        assert item.in_reply_to == "m_PrevMsg456"
        assert item.created_at == ts(1741170000)

    def test_attachment(self) -> None:
        [item] = parse(fixture_bytes("messenger_attachment.json"))
        assert isinstance(item, InboundMessage)
        assert item.text == ""
        assert item.attachments[0].type == "image"
        assert item.attachments[0].url == "https://cdn.fbsbx.example/v/label.jpg"

    def test_quick_reply(self) -> None:
        [item] = parse(fixture_bytes("messenger_quick_reply.json"))
        assert isinstance(item, InboundMessage)
        assert item.meta["quick_reply"] == {"payload": "TRACK_ORDER"}

    def test_echo_is_self_on_the_customer_thread(self) -> None:
        [item] = parse(fixture_bytes("messenger_echo.json"))
        assert isinstance(item, InboundMessage)
        assert item.author.is_self
        assert item.provider_id == "m_OurReply789"
        assert item.thread_key == "psid:6001002003"
        assert item.meta["client_message_id"] == "msg-0001"

    def test_delivery_watermark(self) -> None:
        items = parse(fixture_bytes("messenger_delivery.json"))
        at = ts(1741170005)
        assert items == [
            StatusUpdate(provider_id="m_OurReply789", state=DeliveryState.DELIVERED, at=at),
            StatusUpdate(provider_id="", state=DeliveryState.DELIVERED, at=at,
                         thread_key="psid:6001002003")]

    def test_read_watermark(self) -> None:
        assert parse(fixture_bytes("messenger_read.json")) == [
            StatusUpdate(provider_id="", state=DeliveryState.READ, at=ts(1741170005),
                         thread_key="psid:6001002003")]

    def test_edit(self) -> None:
        assert parse(fixture_bytes("messenger_edit.json")) == [
            MessageEdit(provider_id="m_AbCdEf123", text="Hi, where is my parcel #4411?",
                        at=ts(1741170020))]

    def test_unsend(self) -> None:
        assert parse(fixture_bytes("messenger_unsend.json")) == [
            MessageDelete(provider_id="m_AbCdEf123", at=ts(1741170025))]

    def test_postback(self) -> None:
        [item] = parse(fixture_bytes("messenger_postback.json"))
        assert isinstance(item, InboundMessage)
        assert (item.provider_id, item.text) == ("m_Postback001", "Talk to an agent")
        assert item.meta["postback_payload"] == "HUMAN"


EXPECTED_EVENT_IDS = {
    "feed_comment_add.json": "1234567890123_98765:add:1741169990",
    "feed_comment_remove.json": "1234567890123_98765:remove:1741170300",
    "feed_post_add.json": "1234567890_1234567890999:add:1741170500",
    "messenger_message.json": "m_AbCdEf123",
    "messenger_edit.json": "m_AbCdEf123:edit:1",
    "messenger_unsend.json": "m_AbCdEf123:deleted",
    "messenger_delivery.json": "delivery:6001002003:1741170005000",
    "messenger_read.json": "read:6001002003:1741170005000",
}


class TestSplit:
    @pytest.mark.parametrize("name", fixture_names())
    def test_every_fixture_yields_items(self, name: str) -> None:
        assert parse(fixture_bytes(name))

    @pytest.mark.parametrize("name", fixture_names())
    def test_event_ids_stable_across_redeliveries(self, name: str) -> None:
        first = adapter.split(account(), post(fixture_bytes(name)))
        again = adapter.split(account(), post(fixture_bytes(name)))
        assert [e.provider_event_id for e in first] == [e.provider_event_id for e in again]

    @pytest.mark.parametrize(("name", "event_id"), sorted(EXPECTED_EVENT_IDS.items()))
    def test_dedupe_keys(self, name: str, event_id: str) -> None:
        [event] = adapter.split(account(), post(fixture_bytes(name)))
        assert event.provider_event_id == event_id

    def test_edit_key_differs_per_text(self) -> None:
        body = fixture_bytes("feed_comment_edited.json")
        other = body.replace(b"navy blue", b"dark blue")
        [a] = adapter.split(account(), post(body))
        [b] = adapter.split(account(), post(other))
        assert a.provider_event_id != b.provider_event_id

    def test_batched_entries(self) -> None:
        body = (b'{"object":"page","entry":['
                + fixture_bytes("messenger_message.json").split(b'"entry": [')[1].rsplit(b"]", 1)[0]
                + b"," + fixture_bytes("feed_comment_add.json").split(b'"entry": [')[1]
                .rsplit(b"]", 1)[0] + b"]}")
        assert [type(i).__name__ for i in parse(body)] == ["InboundMessage", "InboundMessage"]

    def test_ignored_items_and_fields(self) -> None:
        body = (b'{"object":"page","entry":[{"id":"1","time":1,"changes":['
                b'{"field":"feed","value":{"item":"reaction","verb":"add","post_id":"1_2"}},'
                b'{"field":"ratings","value":{"x":1}}],'
                b'"messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,'
                b'"reaction":{"mid":"m_1","action":"react","reaction":"love"}}]}]}')
        assert adapter.split(account(), post(body)) == []


class TestMalformed:
    @pytest.mark.parametrize("body", [
        b"", b"not json", b"[]", b'{"entry":[]}', b'{"object":"instagram","entry":[]}',
        b'{"object":"page","entry":{}}', b'{"object":"page","entry":[{"time":1}]}',
        b'{"object":"page","entry":[{"id":"1","messaging":[{"message":{"mid":"m"}}]}]}',
        b'{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":'
        b'{"item":"comment","verb":"add"}}]}]}',
        b'{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"1"},'
        b'"recipient":{"id":"2"},"read":{}}]}]}',
    ])
    def test_split_raises_payload_error(self, body: bytes) -> None:
        with pytest.raises(PayloadError):
            adapter.split(account(), post(body))

    @pytest.mark.parametrize("payload", [
        {}, {"field": "ratings"}, {"messaging": None}, {"messaging": {"sender": {"id": "1"}}},
        {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "1",
                                    "created_time": "soon"}},
        {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "1",
                                    "created_time": 10**30}},
        {"messaging": {"sender": {"id": "1"}, "recipient": {"id": "2"},
                       "message": {"mid": "m"}}},
    ])
    def test_normalize_raises_payload_error(self, payload: dict[str, object]) -> None:
        with pytest.raises(PayloadError):
            adapter.normalize(account(), payload)
