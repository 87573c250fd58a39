"""X inbound: CRC, signatures (docs/providers/README.md#test-vectors), every fixture split and
normalised."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from x_helpers import (
    ADAPTER,
    OWN_ID,
    SECRET,
    fixture_bytes,
    inbound_fixture_names,
    make_account,
    signed_request,
)

from threadline.channels.base import (
    ChannelAdapter,
    DeliveryState,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    MessageKind,
    NormalizedItem,
    PayloadError,
    StatusUpdate,
    Visibility,
    WebhookRequest,
)
from threadline.channels.registry import get_adapter
from threadline.channels.x.adapter import XAdapter, sign

ACCOUNT = make_account()


def normalize_fixture(name: str) -> list[NormalizedItem]:
    request = signed_request(fixture_bytes(name))
    ADAPTER.verify(ACCOUNT, request)
    items: list[NormalizedItem] = []
    for event in ADAPTER.split(ACCOUNT, request):
        json.dumps(event.payload)  # stored as JSON
        items.extend(ADAPTER.normalize(ACCOUNT, event.payload))
    return items


def only_message(name: str) -> InboundMessage:
    items = normalize_fixture(name)
    assert len(items) == 1 and isinstance(items[0], InboundMessage)
    return items[0]


class TestRegistry:
    def test_registry_gives_the_x_adapter(self) -> None:
        adapter = get_adapter("x")
        assert isinstance(adapter, XAdapter)
        assert isinstance(adapter, ChannelAdapter)

    def test_traits(self) -> None:
        traits = XAdapter.traits
        assert (traits.public, traits.private, traits.char_limit) == (True, True, 280)
        assert traits.window_hours is None and traits.identity_kind == "x"


class TestCrc:
    def crc(self, token: str | None, method: str = "GET") -> WebhookRequest:
        query = {"crc_token": token} if token is not None else {}
        return WebhookRequest(method=method, url="https://t/webhooks/x/a", headers={},
                              query=query, body=b"")

    def test_vector_from_channels_md(self) -> None:
        response = ADAPTER.handshake(make_account(), self.crc("crc_test_token_123"))
        assert response is not None and response.status == 200
        assert response.media_type == "application/json"
        assert json.loads(response.body) == {
            "response_token": "sha256=5twVdWfP1pq+LmMfANnX6wUBwav6QKR2ECmYzL4rqHo="}

    def test_get_without_token_is_refused(self) -> None:
        response = ADAPTER.handshake(ACCOUNT, self.crc(None))
        assert response is not None and response.status == 400

    def test_post_is_not_a_handshake(self) -> None:
        assert ADAPTER.handshake(ACCOUNT, self.crc("t", method="POST")) is None


class TestSignature:
    def test_post_vector_from_channels_md(self) -> None:
        body = fixture_bytes("signature_vector_body.json")
        assert body == b'{"for_user_id":"2244994945","tweet_create_events":[]}'
        expected = "sha256=Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4="
        assert sign(SECRET, body) == expected
        request = replace(signed_request(body),
                          headers={"x-twitter-webhooks-signature": expected})
        ADAPTER.verify(ACCOUNT, request)
        assert ADAPTER.split(ACCOUNT, request) == []

    def test_missing_signature(self) -> None:
        request = replace(signed_request(b"{}"), headers={})
        with pytest.raises(Exception) as info:
            ADAPTER.verify(ACCOUNT, request)
        assert getattr(info.value, "code", "") == "missing_signature"

    @pytest.mark.parametrize("header", [
        "sha256=Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4",  # truncated
        "Lss4bxd6weR99So6MmhnJFpNn8h7oFFhZH5um9Z5oF4=",  # no prefix
        "sha256=2da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf",  # hex
        "sha256=", "garbage", "sha256=ü",
    ])
    def test_wrong_signature(self, header: str) -> None:
        from threadline.channels.base import SignatureError

        body = fixture_bytes("signature_vector_body.json")
        request = replace(signed_request(body), headers={"x-twitter-webhooks-signature": header})
        with pytest.raises(SignatureError):
            ADAPTER.verify(ACCOUNT, request)

    def test_other_secret_or_changed_body_fails(self) -> None:
        from threadline.channels.base import SignatureError

        body = fixture_bytes("tweet_create_reply.json")
        with pytest.raises(SignatureError):
            ADAPTER.verify(ACCOUNT, signed_request(body, secret="another_secret"))
        tampered = replace(signed_request(body), body=body.replace(b"arrived", b"arrivedX"))
        with pytest.raises(SignatureError):
            ADAPTER.verify(ACCOUNT, tampered)


class TestFixtures:
    @pytest.mark.parametrize("name", inbound_fixture_names())
    def test_every_fixture_verifies_splits_and_normalises(self, name: str) -> None:
        request = signed_request(fixture_bytes(name))
        ADAPTER.verify(ACCOUNT, request)
        events = ADAPTER.split(ACCOUNT, request)
        assert events, "every fixture holds at least one event"
        again = ADAPTER.split(ACCOUNT, request)  # a redelivery keeps the same event ids
        assert [e.provider_event_id for e in events] == [e.provider_event_id for e in again]
        for event in events:
            for item in ADAPTER.normalize(ACCOUNT, event.payload):
                at = getattr(item, "created_at", None) or getattr(item, "at", None)
                assert at is not None and at.tzinfo is not None

    def test_reply(self) -> None:
        msg = only_message("tweet_create_reply.json")
        assert msg.provider_id == "1897000000000000001"
        assert msg.visibility is Visibility.PUBLIC and msg.kind is MessageKind.COMMENT
        assert msg.in_reply_to == "1896999999999999999" and msg.thread_key is None
        assert msg.author.identity_kind == "x" and msg.author.provider_user_id == "111222333"
        assert msg.author.handle == "@jane_doe" and msg.author.display_name == "Jane Doe"
        assert not msg.author.is_self
        assert msg.created_at == datetime(2025, 3, 5, 10, 15, tzinfo=UTC)
        assert msg.meta["user_has_blocked"] is False

    def test_mention_is_a_post_with_entities_undone(self) -> None:
        msg = only_message("tweet_create_mention.json")
        assert msg.kind is MessageKind.POST and msg.in_reply_to is None
        assert msg.root_provider_id == msg.provider_id
        assert msg.text.endswith("Tea & cake?")

    def test_quote_tweet_references_the_quoted_tweet(self) -> None:
        msg = only_message("tweet_create_quote.json")
        assert msg.kind is MessageKind.POST and msg.visibility is Visibility.PUBLIC
        assert msg.references == ("1896000000000000777",)
        assert msg.meta["quoted_status_id"] == "1896000000000000777"

    def test_long_tweet_uses_the_full_text_and_media(self) -> None:
        msg = only_message("tweet_create_extended.json")
        assert msg.text.endswith("running out of patience, honestly.") and len(msg.text) > 280
        assert "…" not in msg.text
        assert [(a.type, a.provider_media_id) for a in msg.attachments] == [
            ("image", "1897000000000000031")]

    def test_own_tweet_is_an_echo(self) -> None:
        msg = only_message("tweet_create_echo.json")
        assert msg.author.is_self and msg.author.provider_user_id == OWN_ID
        assert msg.in_reply_to == "1897000000000000001"

    def test_retweet_is_marked_for_the_noise_filter(self) -> None:
        # No words of its own: marked `retweet_of`, so listening's noise filter stores it out
        # of the queues (docs/listening.md) instead of threading it.
        msg = only_message("tweet_create_retweet.json")
        assert msg.meta["retweet_of"] == "1896000000000000777"
        assert msg.text.startswith("RT @AcmeSupport") and not msg.author.is_self

    def test_edit_updates_the_original(self) -> None:
        items = normalize_fixture("tweet_create_edit.json")
        assert items == [MessageEdit(provider_id="1897000000000000001",
                                     text="@AcmeSupport my order #4411 hasn't arrived",
                                     at=datetime(2025, 3, 5, 10, 20, tzinfo=UTC))]

    def test_direct_message(self) -> None:
        msg = only_message("direct_message.json")
        assert msg.provider_id == "1897000000000000500"
        assert msg.visibility is Visibility.PRIVATE and msg.kind is MessageKind.MESSAGE
        assert msg.thread_key == "dm:111222333" and msg.in_reply_to is None
        assert msg.author.handle == "@jane_doe" and not msg.author.is_self
        assert msg.text == "Order #4411, still nothing"
        assert msg.created_at == datetime(2025, 3, 5, 10, 16, 40, tzinfo=UTC)

    def test_own_dm_is_an_echo_threaded_on_the_customer(self) -> None:
        msg = only_message("direct_message_echo.json")
        assert msg.author.is_self and msg.thread_key == "dm:111222333"

    def test_dm_with_media(self) -> None:
        msg = only_message("direct_message_media.json")
        assert msg.attachments[0].type == "image"
        assert msg.attachments[0].provider_media_id == "1897000000000000701"

    def test_delete(self) -> None:
        assert normalize_fixture("tweet_delete.json") == [
            MessageDelete(provider_id="1897000000000000001",
                          at=datetime(2025, 3, 5, 10, 23, 20, tzinfo=UTC))]

    def test_read_receipt_marks_our_dm_read(self) -> None:
        items = normalize_fixture("direct_message_mark_read.json")
        assert items == [StatusUpdate(provider_id="1897000000000000600",
                                      state=DeliveryState.READ,
                                      at=datetime(2025, 3, 5, 10, 25, tzinfo=UTC),
                                      thread_key="dm:111222333")]

    @pytest.mark.parametrize("name", ["favorite.json", "follow.json"])
    def test_likes_and_follows_are_stored_but_not_messages(self, name: str) -> None:
        assert normalize_fixture(name) == []

    def test_event_ids_follow_channels_md(self) -> None:
        ids = {name: [e.provider_event_id for e in
                      ADAPTER.split(ACCOUNT, signed_request(fixture_bytes(name)))]
               for name in ("tweet_create_reply.json", "direct_message.json",
                            "favorite.json", "follow.json", "tweet_delete.json")}
        assert ids == {
            "tweet_create_reply.json": ["tweet:1897000000000000001"],
            "direct_message.json": ["dm:1897000000000000500"],
            "favorite.json": ["fav:a7ba59eab0bfcba386f7acedac279542"],
            "follow.json": ["follow:111222333:2244994945:1741170100000"],
            "tweet_delete.json": ["tweet_delete:1897000000000000001"],
        }

    def test_a_body_with_several_events_splits_into_each(self) -> None:
        tweets = json.loads(fixture_bytes("tweet_create_reply.json"))
        dms = json.loads(fixture_bytes("direct_message.json"))
        body = json.dumps({**tweets, **dms}).encode()
        events = ADAPTER.split(ACCOUNT, signed_request(body))
        assert [e.provider_event_id for e in events] == ["tweet:1897000000000000001",
                                                         "dm:1897000000000000500"]
        assert set(events[1].payload["users"]) == {"111222333"}

    def test_whole_bodies_normalise_too(self) -> None:
        payload = json.loads(fixture_bytes("tweet_create_reply.json"))
        assert len(ADAPTER.normalize(ACCOUNT, payload)) == 1


class TestMalformed:
    @pytest.mark.parametrize("body", [
        b"", b"not json", b"[]", b"null", b"{}", b'{"for_user_id": null}',
        b'{"for_user_id": "2244994945", "tweet_create_events": {}}',
        b'{"for_user_id": "2244994945", "tweet_create_events": [{"id_str": "1"}]}',
        b'{"for_user_id": "2244994945", "direct_message_events": [{"type": "message_create"}]}',
        b'{"for_user_id": "2244994945", "tweet_delete_events": [{"status": {}}]}',
        b'{"for_user_id": "2244994945", "tweet_create_events": [NaN]}',
        b"[" * 100_000,
    ])
    def test_split_raises_payload_error(self, body: bytes) -> None:
        with pytest.raises(PayloadError):
            ADAPTER.split(ACCOUNT, signed_request(body))

    def test_delivery_for_another_account_is_refused(self) -> None:
        body = fixture_bytes("tweet_create_reply.json").replace(b'"2244994945"', b'"999"', 1)
        with pytest.raises(PayloadError) as info:
            ADAPTER.split(ACCOUNT, signed_request(body))
        assert info.value.code == "foreign_account"

    @pytest.mark.parametrize("payload", [
        {}, {"for_user_id": ["1"]}, {"for_user_id": "1", "tweet_create_events": ["x"]},
        {"for_user_id": "1", "tweet_create_events": [{"id_str": "1", "user": {"id_str": "2"},
                                                      "timestamp_ms": "x", "created_at": "?"}]},
        {"for_user_id": "1", "direct_message_events": [{
            "type": "message_create", "id": "a", "message_create": {
                "target": {"recipient_id": "1"}, "sender_id": "2"}}]},
    ])
    def test_normalize_raises_payload_error(self, payload: dict[str, object]) -> None:
        with pytest.raises(PayloadError):
            ADAPTER.normalize(ACCOUNT, payload)

    def test_tweet_time_falls_back_to_created_at_then_snowflake(self) -> None:
        base = {"id_str": "1897000000000000001", "user": {"id_str": "2"}, "text": "hi"}
        by_text = ADAPTER.normalize(ACCOUNT, {"for_user_id": "1", "tweet_create_events": [
            {**base, "created_at": "Wed Mar 05 10:15:00 +0000 2025"}]})
        by_id = ADAPTER.normalize(ACCOUNT, {"for_user_id": "1", "tweet_create_events": [base]})
        assert isinstance(by_text[0], InboundMessage) and isinstance(by_id[0], InboundMessage)
        assert by_text[0].created_at == datetime(2025, 3, 5, 10, 15, tzinfo=UTC)
        assert by_id[0].created_at.year == 2025
