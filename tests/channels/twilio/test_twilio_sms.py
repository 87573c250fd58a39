"""SMS/MMS: fixtures normalise, the TwiML ack, status callbacks, sends and policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from twilio_helpers import CONFIG, SMS, fixture, fixture_request, signed_request

from threadline.channels.base import (
    AccountConfig,
    Attachment,
    DeliveryState,
    InboundMessage,
    MessageKind,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    StatusUpdate,
    Visibility,
)
from threadline.channels.registry import get_adapter
from threadline.channels.twilio.adapter import SmsAdapter

ADAPTER = SmsAdapter()
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{CONFIG['account_sid']}/Messages.json"
NOW = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)


def _items(name: str) -> list[object]:
    request = fixture_request(name)
    ADAPTER.verify(SMS, request)
    events = ADAPTER.split(SMS, request)
    return [item for e in events for item in ADAPTER.normalize(SMS, json.loads(json.dumps(
        e.payload)))]


def _message(text: str = "Your order shipped", **kw: object) -> OutboundMessage:
    defaults: dict[str, object] = {"message_id": "m-1", "visibility": Visibility.PRIVATE,
                                   "text": text, "recipient": "+15551230000"}
    defaults.update(kw)
    return OutboundMessage(**defaults)  # type: ignore[arg-type]


class TestRegistry:
    def test_registry_gives_the_sms_adapter(self) -> None:
        adapter = get_adapter("sms")
        assert isinstance(adapter, SmsAdapter)
        assert adapter.traits.identity_kind == "phone"
        assert adapter.traits.char_limit == 1600
        assert not adapter.traits.public and adapter.traits.private


class TestInbound:
    def test_sms(self) -> None:
        request = fixture_request("sms_inbound.json")
        events = ADAPTER.split(SMS, request)
        assert [e.provider_event_id for e in events] == ["SM11111111111111111111111111111111"]
        [item] = _items("sms_inbound.json")
        assert isinstance(item, InboundMessage)
        assert item.provider_id == "SM11111111111111111111111111111111"
        assert item.text == "Hi, my order #4411 has not arrived yet"
        assert item.author.identity_kind == "phone"
        assert item.author.provider_user_id == "+15551230000"
        assert not item.author.is_self
        assert item.thread_key == "+15551230000"
        assert item.visibility is Visibility.PRIVATE and item.kind is MessageKind.MESSAGE
        assert item.created_at.tzinfo is not None
        assert item.meta["to"] == "+15559870000"

    def test_mms_media_become_attachments(self) -> None:
        [item] = _items("mms_inbound.json")
        assert isinstance(item, InboundMessage)
        assert [a.type for a in item.attachments] == ["image", "file"]
        assert item.attachments[0].mime_type == "image/jpeg"
        assert item.attachments[0].provider_media_id == "ME00000000000000000000000000000001"

    def test_redelivery_has_the_same_event_id(self) -> None:
        first = ADAPTER.split(SMS, fixture_request("sms_inbound.json"))
        again = ADAPTER.split(SMS, fixture_request("sms_inbound.json"))
        assert first[0].provider_event_id == again[0].provider_event_id

    def test_ack_is_empty_twiml(self) -> None:
        response = ADAPTER.ack(SMS, fixture_request("sms_inbound.json"))
        assert response.status == 200
        assert response.media_type == "application/xml"
        assert response.body.endswith(b"<Response/>")

    def test_no_handshake(self) -> None:
        assert ADAPTER.handshake(SMS, fixture_request("sms_inbound.json")) is None

    def test_legacy_sid_alias_only(self) -> None:
        request = signed_request("https://e.com/w", {"SmsSid": "SM9", "From": "+15551230000",
                                                     "Body": "hi"})
        [event] = ADAPTER.split(SMS, request)
        assert event.provider_event_id == "SM9"

    def test_own_number_is_self(self) -> None:
        request = signed_request("https://e.com/w", {"MessageSid": "SM9", "Body": "x",
                                                     "From": CONFIG["from_number"]})
        [event] = ADAPTER.split(SMS, request)
        [item] = ADAPTER.normalize(SMS, event.payload)
        assert isinstance(item, InboundMessage) and item.author.is_self

    @pytest.mark.parametrize("body", [b"", b"Body=hi", b"MessageSid=SM1", b"%%%", b"a=1&&b"])
    def test_malformed_bodies(self, body: bytes) -> None:
        request = signed_request("https://e.com/w", {})
        with pytest.raises(PayloadError):
            ADAPTER.split(SMS, request.__class__(**{**request.__dict__, "body": body}))

    def test_voice_webhook_on_sms_account_is_refused(self) -> None:
        with pytest.raises(PayloadError):
            ADAPTER.split(SMS, fixture_request("call_inbound_ringing.json"))

    @pytest.mark.parametrize("payload", [{}, {"type": "call", "params": {},
                                              "received_at": "2025-03-05T10:00:00Z"},
                                         {"type": "message", "params": {"MessageSid": "SM1"},
                                          "received_at": "2025-03-05T10:00:00Z"},
                                         {"type": "message", "params": [], "received_at": 1}])
    def test_malformed_stored_payloads(self, payload: dict[str, object]) -> None:
        with pytest.raises(PayloadError):
            ADAPTER.normalize(SMS, payload)


class TestStatusCallbacks:
    @pytest.mark.parametrize(("name", "state"), [
        ("sms_status_sent.json", DeliveryState.SENT),
        ("sms_status_delivered.json", DeliveryState.DELIVERED),
        ("sms_status_undelivered.json", DeliveryState.FAILED),
        ("sms_status_failed.json", DeliveryState.FAILED),
    ])
    def test_status(self, name: str, state: DeliveryState) -> None:
        [event] = ADAPTER.split(SMS, fixture_request(name))
        status = fixture(name)["params"]["MessageStatus"]
        assert event.provider_event_id == f"SM33333333333333333333333333333333:{status}"
        [item] = _items(name)
        assert isinstance(item, StatusUpdate)
        assert item.provider_id == "SM33333333333333333333333333333333"
        assert item.state is state

    def test_error_code_is_kept(self) -> None:
        [item] = _items("sms_status_undelivered.json")
        assert isinstance(item, StatusUpdate) and item.error is not None
        assert "30003" in item.error
        [failed] = _items("sms_status_failed.json")
        assert isinstance(failed, StatusUpdate) and failed.error is not None
        assert "30007" in failed.error and "Carrier violation" in failed.error

    def test_status_of_inbound_message_is_ignored(self) -> None:
        assert ADAPTER.split(SMS, fixture_request("sms_status_received.json")) == []

    def test_unknown_status_normalises_to_nothing(self) -> None:
        request = signed_request("https://e.com/w", {"MessageSid": "SM1", "From": "+1555",
                                                     "MessageStatus": "teleported"})
        [event] = ADAPTER.split(SMS, request)
        assert ADAPTER.normalize(SMS, event.payload) == []


class TestSend:
    @respx.mock
    def test_success(self) -> None:
        route = respx.post(MESSAGES_URL).mock(
            return_value=httpx.Response(201, json=fixture("messages_create_201.json")))
        with httpx.Client() as http:
            result = ADAPTER.send(SMS, _message(), http)
        assert result.provider_id == "SM66666666666666666666666666666666"
        assert result.state is DeliveryState.SENT
        request = route.calls.last.request
        form = parse_qs(request.content.decode())
        assert form == {"To": ["+15551230000"], "From": ["+15559870000"],
                        "Body": ["Your order shipped"]}
        assert request.headers["authorization"].startswith("Basic ")

    @respx.mock
    def test_messaging_service_media_and_callback(self) -> None:
        route = respx.post(MESSAGES_URL).mock(
            return_value=httpx.Response(201, json=fixture("messages_create_201.json")))
        config = {k: v for k, v in CONFIG.items() if k != "from_number"}
        account = AccountConfig("a", "sms", "n", {**config, "messaging_service_sid": "MG1",
                                                  "status_callback_url": "https://c/s"})
        message = _message(recipient=None, thread_key="+15551230000",
                           attachments=(Attachment(type="image", url="https://m/1.jpg"),))
        with httpx.Client() as http:
            ADAPTER.send(account, message, http)
        form = parse_qs(route.calls.last.request.content.decode())
        assert form["MessagingServiceSid"] == ["MG1"] and "From" not in form
        assert form["MediaUrl"] == ["https://m/1.jpg"]
        assert form["StatusCallback"] == ["https://c/s"]

    @respx.mock
    def test_429_with_retry_after(self) -> None:
        respx.post(MESSAGES_URL).mock(return_value=httpx.Response(
            429, json=fixture("error_20429.json"), headers={"Retry-After": "7"}))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(SMS, _message(), http)
        assert info.value.retry_after == 7.0
        assert info.value.code == "twilio_20429"

    @respx.mock
    def test_20429_in_body_is_retryable(self) -> None:
        respx.post(MESSAGES_URL).mock(return_value=httpx.Response(
            400, json=fixture("error_20429.json")))
        with httpx.Client() as http, pytest.raises(RetryableSendError):
            ADAPTER.send(SMS, _message(), http)

    @respx.mock
    def test_5xx_is_retryable(self) -> None:
        respx.post(MESSAGES_URL).mock(return_value=httpx.Response(503, text="unavailable"))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(SMS, _message(), http)
        assert info.value.retry_after is None

    @respx.mock
    def test_4xx_is_permanent_with_twilio_reason(self) -> None:
        respx.post(MESSAGES_URL).mock(return_value=httpx.Response(
            400, json=fixture("error_21211.json")))
        with httpx.Client() as http, pytest.raises(PermanentSendError) as info:
            ADAPTER.send(SMS, _message(), http)
        assert "21211" in info.value.message and "not a valid phone number" in info.value.message
        assert info.value.code == "twilio_21211"

    @respx.mock
    def test_connection_error_is_retryable(self) -> None:
        respx.post(MESSAGES_URL).mock(side_effect=httpx.ConnectError("refused"))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(SMS, _message(), http)
        assert info.value.code == "transport_unreached"

    @respx.mock
    def test_2xx_without_sid_is_permanent(self) -> None:
        respx.post(MESSAGES_URL).mock(return_value=httpx.Response(201, text="<xml/>"))
        with httpx.Client() as http, pytest.raises(PermanentSendError):
            ADAPTER.send(SMS, _message(), http)

    def test_missing_sender_is_permanent(self) -> None:
        account = AccountConfig("a", "sms", "n", {"account_sid": "AC1", "auth_token": "t",
                                                  "api_base_url": "https://x"})
        with httpx.Client() as http, pytest.raises(PermanentSendError):
            ADAPTER.send(account, _message(), http)

    def test_secrets_are_not_in_the_repr(self) -> None:
        assert CONFIG["auth_token"] not in repr(SMS)


class TestPolicy:
    def test_plain_sms_is_allowed_without_any_window(self) -> None:
        ADAPTER.check_send(SMS, _message(), SendContext(now=NOW))

    def test_over_the_limit(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            ADAPTER.check_send(SMS, _message("x" * 1601), SendContext(now=NOW))
        assert info.value.code == "too_long" and "1600" in info.value.allowed[0]

    def test_public_is_refused(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            ADAPTER.check_send(SMS, _message(visibility=Visibility.PUBLIC), SendContext(now=NOW))
        assert info.value.allowed == ["private"]

    def test_recipient_must_be_e164(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            ADAPTER.check_send(SMS, _message(recipient="555-1234"), SendContext(now=NOW))
        assert info.value.code == "no_recipient"

    def test_empty_message(self) -> None:
        with pytest.raises(SendPolicyError):
            ADAPTER.check_send(SMS, _message("  "), SendContext(now=NOW))


class TestReconcile:
    @respx.mock
    def test_finds_the_message_twilio_already_accepted(self) -> None:
        sent = {**fixture("messages_create_201.json"), "date_created":
                "Wed, 05 Mar 2025 10:20:00 +0000"}
        route = respx.get(MESSAGES_URL).mock(return_value=httpx.Response(
            200, json={"messages": [sent], "next_page_uri": None}))
        with httpx.Client() as http:
            found = ADAPTER.find_sent(SMS, _message(), datetime(2025, 3, 5, 10, 19, tzinfo=UTC),
                                      http)
        assert found is not None and found.provider_id == "SM66666666666666666666666666666666"
        assert route.calls.last.request.url.params["To"] == "+15551230000"

    @respx.mock
    def test_other_body_or_older_message_is_not_a_match(self) -> None:
        sent = fixture("messages_create_201.json")
        respx.get(MESSAGES_URL).mock(return_value=httpx.Response(200, json={"messages": [
            {**sent, "body": "something else"}, {**sent, "date_created":
                                                 "Tue, 04 Mar 2025 10:20:00 +0000"}]}))
        with httpx.Client() as http:
            assert ADAPTER.find_sent(SMS, _message(), datetime(2025, 3, 5, tzinfo=UTC),
                                     http) is None
