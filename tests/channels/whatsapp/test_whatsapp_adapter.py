"""WhatsApp Cloud API: signature, handshake, message/status fixtures, sends, window, fuzzing."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wa_helpers import (
    BASE,
    NUMBER_ID,
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
    Attachment,
    ChannelAction,
    ChannelError,
    DeliveryState,
    InboundMessage,
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
from threadline.channels.whatsapp.adapter import e164

MESSAGES = f"/v25.0/{NUMBER_ID}/messages"
WAMID_OUT = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBIyQUE4QkQ5RjNBQjQ4RDk1OEMA"


def ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def one(name: str) -> InboundMessage:
    [item] = parse(fixture_bytes(name))
    assert isinstance(item, InboundMessage)
    return item


class TestWebhook:
    def test_signature_vector_and_errors(self) -> None:
        body = fixture_bytes("signature_vector_body.json")
        signature = "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf"
        assert sign(SECRET, body) == signature
        adapter.verify(account(), post(body, signature=signature))
        message = fixture_bytes("text_message.json")
        with pytest.raises(SignatureError):
            adapter.verify(account(), post(message, signature=signature))
        with pytest.raises(SignatureError):
            adapter.verify(account(), post(message, signature=None))

    def test_handshake(self) -> None:
        ok = adapter.handshake(account(), get({
            "hub.mode": "subscribe", "hub.verify_token": "tok-123", "hub.challenge": "55"}))
        assert ok is not None and (ok.status, ok.body) == (200, b"55")
        bad = adapter.handshake(account(), get({"hub.mode": "subscribe", "hub.challenge": "5"}))
        assert bad is not None and bad.status == 403

    def test_other_numbers_of_the_account_are_skipped(self) -> None:
        body = fixture_bytes("text_message.json")
        assert adapter.split(account(phone_number_id="999"), post(body)) == []

    def test_other_fields_ignored(self) -> None:
        body = (b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{'
                b'"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}')
        assert adapter.split(account(), post(body)) == []

    def test_reaction_ignored(self) -> None:
        body = fixture_bytes("text_message.json").replace(b'"type": "text"', b'"type": "reaction"')
        assert adapter.split(account(), post(body)) == []


class TestMessages:
    def test_text(self) -> None:
        item = one("text_message.json")
        assert item.provider_id == "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZBRDE2RkM5QzhGRjBBQTA3OQA="
        assert item.text == "Hello, is my order shipped?"
        assert item.visibility is Visibility.PRIVATE
        assert item.author.identity_kind == "phone"
        assert item.author.provider_user_id == "+16505551234"
        assert item.author.display_name == "Jane Doe"
        assert item.thread_key == "+16505551234"
        assert item.in_reply_to == "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBI1QjQ4RjM0RjE2QjE2QjE2AA=="
        assert item.created_at == ts(1741170000)

    def test_image(self) -> None:
        item = one("image_message.json")
        assert item.text == "The box"
        [attachment] = item.attachments
        assert (attachment.type, attachment.provider_media_id, attachment.mime_type) == (
            "image", "1481412135843937", "image/jpeg")

    def test_document(self) -> None:
        [attachment] = one("document_message.json").attachments
        assert (attachment.type, attachment.name) == ("file", "invoice.pdf")

    def test_location(self) -> None:
        item = one("location_message.json")
        assert item.text == "Acme Store Damrak 1, Amsterdam"
        assert item.meta["location"]["latitude"] == 52.37

    def test_interactive_button_reply(self) -> None:
        item = one("interactive_button_reply.json")
        assert (item.text, item.meta["reply_id"]) == ("Track order", "track")
        assert item.in_reply_to == "wamid.OURMENU0001"

    def test_interactive_list_reply(self) -> None:
        assert one("interactive_list_reply.json").text == "Returns"

    def test_template_button(self) -> None:
        item = one("button_message.json")
        assert (item.text, item.meta["payload"]) == ("Yes, call me", "CALLBACK_YES")

    def test_unsupported(self) -> None:
        item = one("unsupported_message.json")
        assert item.meta["unsupported"] is True
        assert item.meta["errors"][0].startswith("131051 Message type unknown")


class TestStatuses:
    @pytest.mark.parametrize(("name", "state", "at"), [
        ("status_sent.json", DeliveryState.SENT, 1741170050),
        ("status_delivered.json", DeliveryState.DELIVERED, 1741170060),
        ("status_read.json", DeliveryState.READ, 1741170070),
    ])
    def test_states(self, name: str, state: DeliveryState, at: int) -> None:
        assert parse(fixture_bytes(name)) == [
            StatusUpdate(provider_id=WAMID_OUT, state=state, at=ts(at))]

    def test_failed_carries_the_error(self) -> None:
        [item] = parse(fixture_bytes("status_failed.json"))
        assert isinstance(item, StatusUpdate) and item.state is DeliveryState.FAILED
        assert item.error is not None and item.error.startswith("131047 Re-engagement message")
        assert "24 hours" in item.error

    def test_dedupe_keys(self) -> None:
        [event] = adapter.split(account(), post(fixture_bytes("status_read.json")))
        assert event.provider_event_id == f"{WAMID_OUT}:read"
        [event] = adapter.split(account(), post(fixture_bytes("image_message.json")))
        assert event.provider_event_id == "wamid.IMAGE0001"

    @pytest.mark.parametrize("name", fixture_names())
    def test_every_fixture_normalises_with_stable_ids(self, name: str) -> None:
        assert parse(fixture_bytes(name))
        first = adapter.split(account(), post(fixture_bytes(name)))
        assert [e.provider_event_id for e in first] == [
            e.provider_event_id for e in adapter.split(account(), post(fixture_bytes(name)))]


class TestMalformed:
    @pytest.mark.parametrize("body", [
        b"", b"null", b'{"object":"page","entry":[]}',
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":'
        b'"messages","value":{"messages":[{"id":"w","type":"text"}]}}]}]}',
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":'
        b'"messages","value":{"statuses":[{"status":"read"}]}}]}]}',
    ])
    def test_split(self, body: bytes) -> None:
        with pytest.raises(PayloadError):
            adapter.split(account(), post(body))

    @pytest.mark.parametrize("payload", [
        {}, {"status": {"id": "w", "status": "deleted", "timestamp": "1"}},
        {"message": {"id": "w", "from": "abc", "timestamp": "1", "type": "text"}},
        {"message": {"id": "w", "from": "16505551234", "timestamp": "x", "type": "text"}},
        {"message": {"id": "w", "from": "16505551234", "timestamp": "1", "type": "image"}},
    ])
    def test_normalize(self, payload: dict[str, Any]) -> None:
        with pytest.raises(PayloadError):
            adapter.normalize(account(), payload)

    def test_e164(self) -> None:
        assert e164("16505551234") == "+16505551234"
        with pytest.raises(PayloadError):
            e164("12")


def text(**kwargs: Any) -> OutboundMessage:
    fields: dict[str, Any] = {"recipient": "+16505551234", "thread_key": "+16505551234",
                              **kwargs}
    return OutboundMessage(message_id="msg-7", visibility=Visibility.PRIVATE,
                           text="Yes, it shipped today.", **fields)


TEMPLATE = {"name": "order_update", "language": "en_US",
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "4411"}]}]}


class TestPolicy:
    def test_traits(self) -> None:
        t = adapter.traits
        assert (t.public, t.private, t.window_hours, t.identity_kind, t.char_limit) == (
            False, True, 24, "phone", None)

    def test_text_inside_window(self) -> None:
        adapter.check_send(account(), text(), context(inbound_hours_ago=23.5))

    @pytest.mark.parametrize("hours", [None, 25])
    def test_text_outside_window_asks_for_template(self, hours: float | None) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), text(), context(inbound_hours_ago=hours))
        assert (info.value.code, info.value.allowed) == ("window_closed", ["template"])

    def test_template_any_time(self) -> None:
        adapter.check_send(account(), text(options={"template": TEMPLATE}),
                           context(inbound_hours_ago=None))

    def test_incomplete_template(self) -> None:
        with pytest.raises(SendPolicyError):
            adapter.check_send(account(), text(options={"template": {"name": "x"}}), context())

    def test_tag_does_not_open_the_window(self) -> None:
        with pytest.raises(SendPolicyError):
            adapter.check_send(account(), text(options={"tag": "HUMAN_AGENT"}),
                               context(inbound_hours_ago=30))

    def test_no_public_surface(self) -> None:
        message = OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="hi")
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), message, context())
        assert info.value.allowed == ["private"]


ANSWER = {"messaging_product": "whatsapp",
          "contacts": [{"input": "16505551234", "wa_id": "16505551234"}],
          "messages": [{"id": WAMID_OUT}]}


@respx.mock(base_url=BASE, assert_all_called=True)
class TestSend:
    def test_text_reply(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(200, json=ANSWER)
        result = adapter.send(account(), text(in_reply_to="wamid.IN1"), httpx.Client())
        assert result.provider_id == WAMID_OUT and result.meta == {"wa_id": "16505551234"}
        assert json.loads(route.calls.last.request.content) == {
            "messaging_product": "whatsapp", "recipient_type": "individual",
            "to": "16505551234", "biz_opaque_callback_data": "threadline:msg-7",
            "type": "text", "text": {"preview_url": False, "body": "Yes, it shipped today."},
            "context": {"message_id": "wamid.IN1"}}

    def test_template(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(200, json=ANSWER)
        adapter.send(account(), text(options={"template": TEMPLATE}), httpx.Client())
        body = json.loads(route.calls.last.request.content)
        assert body["type"] == "template"
        assert body["template"] == {
            "name": "order_update", "language": {"code": "en_US", "policy": "deterministic"},
            "components": TEMPLATE["components"]}

    def test_media_by_link(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(200, json=ANSWER)
        message = text(attachments=(Attachment(type="image", url="https://x.test/a.jpg"),))
        adapter.send(account(), message, httpx.Client())
        body = json.loads(route.calls.last.request.content)
        assert body["type"] == "image"
        assert body["image"] == {"link": "https://x.test/a.jpg",
                                 "caption": "Yes, it shipped today."}

    def test_mark_read(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(200, json={"success": True})
        adapter.act(account(), ChannelAction("read", target="wamid.IN1"), httpx.Client())
        assert json.loads(route.calls.last.request.content) == {
            "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}


@respx.mock(base_url=BASE)
class TestSendErrors:
    def test_429(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(429, headers={"Retry-After": "6"})
        with pytest.raises(RetryableSendError) as info:
            adapter.send(account(), text(), httpx.Client())
        assert info.value.retry_after == 6

    def test_5xx(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(500, json={"error": {"message": "boom", "code": 1}})
        with pytest.raises(RetryableSendError):
            adapter.send(account(), text(), httpx.Client())

    def test_pair_rate_limit_is_retryable(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(400, json={"error": {
            "message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
            "code": 131056}})
        with pytest.raises(RetryableSendError):
            adapter.send(account(), text(), httpx.Client())

    def test_4xx_permanent_with_reason(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(400, json={"error": {
            "message": "(#131047) Re-engagement message", "type": "OAuthException",
            "code": 131047, "error_data": {"messaging_product": "whatsapp",
                                           "details": "More than 24 hours have passed"}}})
        with pytest.raises(PermanentSendError) as info:
            adapter.send(account(), text(), httpx.Client())
        assert "More than 24 hours" in info.value.message
        assert info.value.code == "graph_131047"

    def test_answer_without_message_id(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(200, json={"messaging_product": "whatsapp"})
        with pytest.raises(PermanentSendError):
            adapter.send(account(), text(), httpx.Client())


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


@FUZZ
@given(json_values)
def test_fuzz_normalize(value: Any) -> None:
    for payload in ({"message": value}, {"status": value}, {"message": value, "contact": value}):
        with contextlib.suppress(ChannelError):
            adapter.normalize(account(), payload)
