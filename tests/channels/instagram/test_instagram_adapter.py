"""Instagram: signature, handshake, comment and DM fixtures, sends, policy, hide, fuzzing."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ig_helpers import (
    BASE,
    IG_ID,
    NOW,
    SECRET,
    account,
    adapter,
    context,
    fixture_bytes,
    fixture_names,
    get,
    json_values,
    mutate,
    parse,
    post,
)

from threadline.channels.base import (
    ChannelAction,
    ChannelError,
    DeliveryState,
    InboundMessage,
    MessageDelete,
    MessageKind,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    RetryableSendError,
    SendPolicyError,
    SignatureError,
    StatusUpdate,
    Visibility,
)
from threadline.channels.meta_common import sign

MESSAGES = f"/v25.0/{IG_ID}/messages"


def ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


class TestWebhook:
    def test_signature_vector(self) -> None:
        body = fixture_bytes("signature_vector_body.json")
        signature = "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf"
        assert sign(SECRET, body) == signature
        adapter.verify(account(), post(body, signature=signature))

    def test_wrong_and_missing_signature(self) -> None:
        body = fixture_bytes("dm_message.json")
        with pytest.raises(SignatureError):
            adapter.verify(account(), post(body, signature=sign("nope", body)))
        with pytest.raises(SignatureError):
            adapter.verify(account(), post(body, signature=None))

    def test_handshake(self) -> None:
        ok = adapter.handshake(account(), get({
            "hub.mode": "subscribe", "hub.verify_token": "tok-123", "hub.challenge": "987"}))
        bad = adapter.handshake(account(), get({
            "hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "987"}))
        assert ok is not None and (ok.status, ok.body) == (200, b"987")
        assert bad is not None and bad.status == 403

    def test_page_object_refused(self) -> None:
        with pytest.raises(PayloadError):
            adapter.split(account(), post(b'{"object":"page","entry":[]}'))


class TestFixtures:
    def test_comment_reply(self) -> None:
        [item] = parse(fixture_bytes("comment_reply.json"))
        assert isinstance(item, InboundMessage)
        assert (item.provider_id, item.text) == ("17900000000000001", "Price?")
        assert (item.visibility, item.kind) == (Visibility.PUBLIC, MessageKind.COMMENT)
        assert item.in_reply_to == "17900000000000000"
        assert item.root_provider_id == "18000000000000001"
        assert item.author.identity_kind == "instagram"
        assert item.author.provider_user_id == "7000000000000001"
        assert item.author.handle == "jane.doe"
        assert item.created_at == ts(1741170000)
        assert item.meta["media_product_type"] == "FEED"

    def test_top_level_comment_replies_to_media(self) -> None:
        [item] = parse(fixture_bytes("comment_top_level.json"))
        assert isinstance(item, InboundMessage)
        assert item.in_reply_to == item.root_provider_id == "18000000000000001"
        assert item.text == "Do you ship to Canada? \u2764"

    def test_own_comment_is_self(self) -> None:
        [item] = parse(fixture_bytes("comment_self_echo.json"))
        assert isinstance(item, InboundMessage) and item.author.is_self

    def test_live_comment(self) -> None:
        [item] = parse(fixture_bytes("live_comment.json"))
        assert isinstance(item, InboundMessage) and item.meta["field"] == "live_comments"

    def test_inline_field_value(self) -> None:
        [item] = parse(fixture_bytes("comment_inline_field.json"))
        assert isinstance(item, InboundMessage) and item.provider_id == "17900000000000005"

    def test_dm(self) -> None:
        [item] = parse(fixture_bytes("dm_message.json"))
        assert isinstance(item, InboundMessage)
        assert (item.provider_id, item.visibility) == ("aWdfZAG1faWQ6MTIz", Visibility.PRIVATE)
        assert item.thread_key == "igsid:7000000000000001"
        assert item.author.identity_kind == "instagram"

    def test_dm_attachment(self) -> None:
        [item] = parse(fixture_bytes("dm_attachment.json"))
        assert isinstance(item, InboundMessage)
        assert item.attachments[0].url == "https://lookaside.example/ig/photo.jpg"

    def test_story_reply(self) -> None:
        [item] = parse(fixture_bytes("dm_story_reply.json"))
        assert isinstance(item, InboundMessage)
        assert item.meta["story"]["id"] == "18000000000000077" and item.in_reply_to is None

    def test_echo(self) -> None:
        [item] = parse(fixture_bytes("dm_echo.json"))
        assert isinstance(item, InboundMessage)
        assert item.author.is_self and item.thread_key == "igsid:7000000000000001"
        assert item.meta["client_message_id"] == "msg-0002"

    def test_unsend(self) -> None:
        assert parse(fixture_bytes("dm_unsend.json")) == [
            MessageDelete(provider_id="aWdfZAG1faWQ6MTIz", at=ts(1741170060))]

    def test_unsupported(self) -> None:
        [item] = parse(fixture_bytes("dm_unsupported.json"))
        assert isinstance(item, InboundMessage) and item.meta["unsupported"] is True

    def test_read_by_mid(self) -> None:
        assert parse(fixture_bytes("dm_read.json")) == [
            StatusUpdate(provider_id="aWdfZAG1faWQ6MTI2", state=DeliveryState.READ,
                         at=ts(1741170080))]

    @pytest.mark.parametrize("name", fixture_names())
    def test_every_fixture_normalises_with_stable_ids(self, name: str) -> None:
        assert parse(fixture_bytes(name))
        ids = [e.provider_event_id for e in adapter.split(account(), post(fixture_bytes(name)))]
        assert ids == [e.provider_event_id
                       for e in adapter.split(account(), post(fixture_bytes(name)))]

    @pytest.mark.parametrize(("name", "key"), [
        ("comment_reply.json", "17900000000000001"), ("dm_message.json", "aWdfZAG1faWQ6MTIz"),
        ("dm_unsend.json", "aWdfZAG1faWQ6MTIz:deleted"),
        ("dm_read.json", "read:7000000000000001:aWdfZAG1faWQ6MTI2")])
    def test_dedupe_keys(self, name: str, key: str) -> None:
        [event] = adapter.split(account(), post(fixture_bytes(name)))
        assert event.provider_event_id == key

    @pytest.mark.parametrize("body", [
        b"{", b'{"object":"instagram"}',
        b'{"object":"instagram","entry":[{"id":"1","changes":[{"field":"comments",'
        b'"value":{"id":"1","text":"x"}}]}]}',
    ])
    def test_malformed(self, body: bytes) -> None:
        with pytest.raises(PayloadError):
            adapter.split(account(), post(body))


def dm(**kwargs: Any) -> OutboundMessage:
    fields: dict[str, Any] = {"recipient": "7000000000000001", **kwargs}
    return OutboundMessage(message_id="msg-9", visibility=Visibility.PRIVATE,
                           text="Yes, we ship to Canada.", **fields)


class TestOutbound:
    def test_traits(self) -> None:
        t = adapter.traits
        assert (t.public, t.private, t.window_hours, t.can_hide, t.identity_kind) == (
            True, True, 24, True, "instagram")

    def test_window_and_private_reply_policy(self) -> None:
        adapter.check_send(account(), dm(), context(inbound_hours_ago=2))
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), dm(), context(inbound_hours_ago=48))
        assert "human_agent_tag" in info.value.allowed
        reply = dm(recipient=None, options={"private_reply_to": "17900000000000002"})
        adapter.check_send(account(), reply, context(
            inbound_hours_ago=None, replied_item_created_at=NOW - timedelta(days=1)))
        with pytest.raises(SendPolicyError):
            adapter.check_send(account(), reply, context(
                inbound_hours_ago=None, replied_item_created_at=NOW - timedelta(days=1),
                private_reply_used=True))

    @respx.mock(base_url=BASE, assert_all_called=True)
    def test_dm_and_private_reply(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(
            200, json={"recipient_id": "7000000000000001", "message_id": "aWdfMid1"})
        assert adapter.send(account(), dm(), httpx.Client()).provider_id == "aWdfMid1"
        reply = dm(recipient=None, options={"private_reply_to": "17900000000000002"})
        adapter.send(account(), reply, httpx.Client())
        first, second = (json.loads(c.request.content) for c in route.calls)
        assert first["recipient"] == {"id": "7000000000000001"}
        assert first["messaging_type"] == "RESPONSE"
        assert second["recipient"] == {"comment_id": "17900000000000002"}

    @respx.mock(base_url=BASE, assert_all_called=True)
    def test_public_reply(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post("/v25.0/17900000000000002/replies").respond(
            200, json={"id": "17900000000000010"})
        message = OutboundMessage(message_id="msg-10", visibility=Visibility.PUBLIC,
                                  text="We do!", in_reply_to="17900000000000002")
        assert adapter.send(account(), message, httpx.Client()).provider_id == (
            "17900000000000010")
        assert json.loads(route.calls.last.request.content) == {"message": "We do!"}

    @respx.mock(base_url=BASE, assert_all_called=True)
    def test_hide(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post("/v25.0/17900000000000002").respond(200, json={"success": True})
        adapter.act(account(), ChannelAction("hide", target="17900000000000002"), httpx.Client())
        assert json.loads(route.calls.last.request.content) == {"hide": True}

    @respx.mock(base_url=BASE)
    def test_errors(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES)
        route.respond(429, headers={"Retry-After": "3"})
        with pytest.raises(RetryableSendError) as retry:
            adapter.send(account(), dm(), httpx.Client())
        assert retry.value.retry_after == 3
        route.respond(502)
        with pytest.raises(RetryableSendError):
            adapter.send(account(), dm(), httpx.Client())
        route.respond(400, json={"error": {"message": "Invalid OAuth access token.",
                                           "code": 190}})
        with pytest.raises(PermanentSendError) as permanent:
            adapter.send(account(), dm(), httpx.Client())
        assert "Invalid OAuth access token" in permanent.value.message


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(body: bytes) -> None:
    try:
        events = adapter.split(account(), post(body))
    except ChannelError:
        return
    for event in events:
        json.dumps(event.payload)
        with contextlib.suppress(ChannelError):
            adapter.normalize(account(), event.payload)


@FUZZ
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_fuzz_random_input(body: bytes) -> None:
    run(body)


@FUZZ
@given(st.sampled_from(fixture_names()), st.data())
def test_fuzz_mutated_fixtures(name: str, data: st.DataObject) -> None:
    run(json.dumps(mutate(json.loads(fixture_bytes(name)), data)).encode())
