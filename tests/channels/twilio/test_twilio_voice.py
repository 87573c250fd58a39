"""Voice: call webhooks as call records, status callbacks, and placing an outbound call."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from twilio_helpers import CONFIG, VOICE, fixture, fixture_request, signed_request

from threadline.channels.base import (
    AccountConfig,
    ChannelAction,
    DeliveryState,
    InboundMessage,
    MessageEdit,
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
from threadline.channels.twilio.adapter import VoiceAdapter
from threadline.channels.twilio.calls import format_duration

ADAPTER = VoiceAdapter()
CALLS_URL = f"https://api.twilio.com/2010-04-01/Accounts/{CONFIG['account_sid']}/Calls.json"
CUSTOMER = "+15551230000"


def _items(name: str) -> list[object]:
    request = fixture_request(name)
    ADAPTER.verify(VOICE, request)
    return [i for e in ADAPTER.split(VOICE, request) for i in ADAPTER.normalize(VOICE, e.payload)]


class TestInboundCalls:
    def test_registry_and_traits(self) -> None:
        adapter = get_adapter("voice")
        assert isinstance(adapter, VoiceAdapter)
        assert adapter.traits.private and not adapter.traits.public
        assert adapter.traits.realtime and adapter.traits.identity_kind == "phone"

    def test_ringing_call_is_a_call_record(self) -> None:
        [event] = ADAPTER.split(VOICE, fixture_request("call_inbound_ringing.json"))
        assert event.provider_event_id == "CA44444444444444444444444444444444:ringing"
        [item] = _items("call_inbound_ringing.json")
        assert isinstance(item, InboundMessage)
        assert item.kind is MessageKind.CALL
        assert item.provider_id == "CA44444444444444444444444444444444"
        assert item.text == "Inbound call, ringing"
        assert item.thread_key == CUSTOMER
        assert item.author.provider_user_id == CUSTOMER and item.author.display_name == "JANE DOE"
        assert item.visibility is Visibility.PRIVATE
        assert item.meta["call_status"] == "ringing" and item.meta["direction"] == "inbound"

    def test_completed_call_updates_the_same_record(self) -> None:
        [event] = ADAPTER.split(VOICE, fixture_request("call_status_completed.json"))
        assert event.provider_event_id == "CA44444444444444444444444444444444:completed"
        record, edit = _items("call_status_completed.json")
        assert isinstance(record, InboundMessage) and isinstance(edit, MessageEdit)
        assert record.provider_id == edit.provider_id == "CA44444444444444444444444444444444"
        assert edit.text == "Inbound call, 2 min 5 s, completed"
        assert record.meta["duration_seconds"] == 125
        assert record.meta["recording_url"].endswith("RE00000000000000000000000000000001")
        assert record.attachments[0].type == "audio"
        assert edit.at == datetime(2025, 3, 5, 10, 17, 5, tzinfo=UTC)

    def test_recording_callback_is_one_event_per_recording(self) -> None:
        [event] = ADAPTER.split(VOICE, fixture_request("recording_status.json"))
        assert event.provider_event_id == "recording:RE00000000000000000000000000000001"
        assert event.payload["type"] == "recording"  # tests/channels/twilio/test_recordings.py

    def test_sms_webhook_on_voice_account_is_refused(self) -> None:
        with pytest.raises(PayloadError):
            ADAPTER.split(VOICE, fixture_request("sms_inbound.json"))

    def test_missing_from_is_refused(self) -> None:
        request = signed_request("https://e.com/w", {"CallSid": "CA1", "CallStatus": "ringing"})
        with pytest.raises(PayloadError):
            ADAPTER.split(VOICE, request)

    @pytest.mark.parametrize(("seconds", "text"), [(0, "0 s"), (45, "45 s"),
                                                   (125, "2 min 5 s"), (3725, "1 h 2 min 5 s")])
    def test_durations(self, seconds: int, text: str) -> None:
        assert format_duration(seconds) == text


class TestOutboundCallCallbacks:
    def test_answered(self) -> None:
        [status] = _items("call_status_outbound_in_progress.json")
        assert isinstance(status, StatusUpdate)
        assert status.provider_id == "CA55555555555555555555555555555555"
        assert status.state is DeliveryState.SENT

    def test_no_answer(self) -> None:
        status, edit = _items("call_status_outbound_no_answer.json")
        assert isinstance(status, StatusUpdate) and status.state is DeliveryState.FAILED
        assert status.error == "no-answer"
        assert isinstance(edit, MessageEdit) and edit.text == "Outbound call, no answer"


class TestPlaceCall:
    @respx.mock
    def test_call_with_twiml_and_callback(self) -> None:
        route = respx.post(CALLS_URL).mock(
            return_value=httpx.Response(201, json=fixture("calls_create_201.json")))
        action = ChannelAction("call", target=CUSTOMER, params={
            "twiml": "<Response><Say>Hello</Say></Response>",
            "status_callback": "https://care.example.com/webhooks/voice/acct-voice-1"})
        with httpx.Client() as http:
            result = ADAPTER.act(VOICE, action, http)
        assert result.provider_id == "CA77777777777777777777777777777777"
        assert result.state is DeliveryState.PENDING
        form = parse_qs(route.calls.last.request.content.decode())
        assert form["To"] == [CUSTOMER] and form["From"] == ["+15559870000"]
        assert form["Twiml"] == ["<Response><Say>Hello</Say></Response>"]
        assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
        assert "Url" not in form

    @respx.mock
    def test_call_with_url_from_config(self) -> None:
        route = respx.post(CALLS_URL).mock(
            return_value=httpx.Response(201, json=fixture("calls_create_201.json")))
        account = AccountConfig("a", "voice", "n", {**CONFIG, "voice_url": "https://c/connect"})
        with httpx.Client() as http:
            ADAPTER.act(account, ChannelAction("call", target=CUSTOMER, params={"timeout": 20}),
                        http)
        form = parse_qs(route.calls.last.request.content.decode())
        assert form["Url"] == ["https://c/connect"] and form["Timeout"] == ["20"]

    @respx.mock
    def test_call_429(self) -> None:
        respx.post(CALLS_URL).mock(return_value=httpx.Response(
            429, json=fixture("error_20429.json"), headers={"Retry-After": "1"}))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.act(VOICE, ChannelAction("call", target=CUSTOMER, params={"url": "u"}), http)
        assert info.value.retry_after == 1.0

    @pytest.mark.parametrize("action", [
        ChannelAction("call", target="555", params={"url": "u"}),
        ChannelAction("call", target=CUSTOMER, params={}),
        ChannelAction("call", target=CUSTOMER, params={"url": "u", "twiml": "<Response/>"}),
        ChannelAction("hide", target="x"),
    ])
    def test_bad_actions_are_permanent(self, action: ChannelAction) -> None:
        with httpx.Client() as http, pytest.raises(PermanentSendError):
            ADAPTER.act(VOICE, action, http)

    def test_text_send_is_refused(self) -> None:
        message = OutboundMessage("m1", Visibility.PRIVATE, "hello", recipient=CUSTOMER)
        with pytest.raises(SendPolicyError) as info:
            ADAPTER.check_send(VOICE, message, SendContext(now=datetime.now(UTC)))
        assert info.value.allowed == ["call"]
        with httpx.Client() as http, pytest.raises(PermanentSendError):
            ADAPTER.send(VOICE, message, http)


class TestCallAnswer:
    def test_incoming_call_without_config_is_ended_politely(self) -> None:
        body = ADAPTER.ack(VOICE, fixture_request("call_inbound_ringing.json")).body
        assert b"<Say>" in body and b"<Hangup/>" in body

    def test_incoming_call_is_forwarded(self) -> None:
        account = AccountConfig("a", "voice", "n", {**CONFIG, "forward_to": "+15550001111"})
        response = ADAPTER.ack(account, fixture_request("call_inbound_ringing.json"))
        assert response.media_type == "application/xml"
        assert b"<Dial>+15550001111</Dial>" in response.body

    def test_custom_twiml(self) -> None:
        twiml = "<Response><Enqueue>support</Enqueue></Response>"
        account = AccountConfig("a", "voice", "n", {**CONFIG, "inbound_twiml": twiml})
        assert ADAPTER.ack(account, fixture_request("call_inbound_ringing.json")).body == \
            twiml.encode()

    @pytest.mark.parametrize("name", ["call_status_completed.json",
                                      "call_status_outbound_in_progress.json"])
    def test_callbacks_get_empty_twiml(self, name: str) -> None:
        assert ADAPTER.ack(VOICE, fixture_request(name)).body.endswith(b"<Response/>")
