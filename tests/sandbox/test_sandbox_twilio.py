"""The Twilio sandbox answers the adapter's sends and its webhooks pass the adapters' checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from threadline.channels.base import (
    AccountConfig,
    ChannelAction,
    DeliveryState,
    InboundMessage,
    MessageEdit,
    OutboundMessage,
    RetryableSendError,
    SignatureError,
    StatusUpdate,
    Visibility,
    WebhookRequest,
)
from threadline.channels.twilio.adapter import SmsAdapter, VoiceAdapter
from threadline.channels.urls import UrlPolicy
from threadline.sandbox.core import SignedWebhook, create_app
from threadline.sandbox.providers import twilio

ALLOW_CUSTOM = UrlPolicy(allow_custom=True)  # the sandbox is not an official host

BASE_URL = "https://care.example.com"
CONFIG: dict[str, Any] = {"account_sid": "AC" + "1" * 32, "auth_token": "sandbox-token",
                          "from_number": "+15559870000",
                          "api_base_url": "http://testserver" + twilio.PREFIX}
SMS = AccountConfig("acct-sms", "sms", "SMS", CONFIG, urls=ALLOW_CUSTOM)
VOICE = AccountConfig("acct-voice", "voice", "Voice", CONFIG, urls=ALLOW_CUSTOM)


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(["twilio"]))


def _request(hook: SignedWebhook) -> WebhookRequest:
    return WebhookRequest("POST", BASE_URL + hook.path,
                          {k.lower(): v for k, v in hook.headers.items()}, {}, hook.body)


def _calls(client: TestClient) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = client.get("/_sandbox/calls",
                                             params={"provider": "twilio"}).json()["calls"]
    return calls


def test_sms_send_is_recorded_and_answered(client: TestClient) -> None:
    message = OutboundMessage("m-1", Visibility.PRIVATE, "Your order shipped",
                              recipient="+15551230000")
    result = SmsAdapter().send(SMS, message, client)
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    [call] = _calls(client)
    assert call["path"] == f"/2010-04-01/Accounts/{CONFIG['account_sid']}/Messages.json"
    assert call["form"] == {"To": "+15551230000", "From": "+15559870000",
                            "Body": "Your order shipped"}


def test_sms_send_fault_429(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"provider": "twilio", "path_contains": "Messages",
                                          "status": 429, "retry_after": 3,
                                          "body": {"code": 20429, "message": "Too Many"}})
    message = OutboundMessage("m-1", Visibility.PRIVATE, "hi", recipient="+15551230000")
    with pytest.raises(RetryableSendError) as info:
        SmsAdapter().send(SMS, message, client)
    assert info.value.retry_after == 3


def test_call_is_recorded_and_answered(client: TestClient) -> None:
    result = VoiceAdapter().act(VOICE, ChannelAction("call", target="+15551230000", params={
        "url": "https://care.example.com/voice/connect"}), client)
    assert result.provider_id.startswith("CA")
    [call] = _calls(client)
    assert call["path"].endswith("/Calls.json") and call["form"]["To"] == "+15551230000"


def test_sms_webhook_verifies_and_normalises() -> None:
    hook = twilio.sms_webhook("acct-sms", CONFIG, "+15551230000", "Where is my parcel?",
                              base_url=BASE_URL)
    assert hook.path == "/webhooks/sms/acct-sms"
    adapter = SmsAdapter()
    request = _request(hook)
    adapter.verify(SMS, request)
    [event] = adapter.split(SMS, request)
    [item] = adapter.normalize(SMS, event.payload)
    assert isinstance(item, InboundMessage)
    assert item.text == "Where is my parcel?" and item.thread_key == "+15551230000"


def test_mms_webhook_has_attachments() -> None:
    hook = twilio.sms_webhook("acct-sms", CONFIG, "+15551230000", "photo", base_url=BASE_URL,
                              media=[("https://media.example/1.jpg", "image/jpeg")])
    request = _request(hook)
    SmsAdapter().verify(SMS, request)
    [event] = SmsAdapter().split(SMS, request)
    [item] = SmsAdapter().normalize(SMS, event.payload)
    assert isinstance(item, InboundMessage) and item.attachments[0].type == "image"


def test_status_webhook_verifies_and_normalises() -> None:
    hook = twilio.sms_status_webhook("acct-sms", CONFIG, "SM" + "2" * 32, "undelivered",
                                     error_code="30003", base_url=BASE_URL)
    request = _request(hook)
    SmsAdapter().verify(SMS, request)
    [event] = SmsAdapter().split(SMS, request)
    [item] = SmsAdapter().normalize(SMS, event.payload)
    assert isinstance(item, StatusUpdate) and item.state is DeliveryState.FAILED


def test_call_webhooks_verify_and_normalise() -> None:
    adapter = VoiceAdapter()
    ringing = _request(twilio.call_webhook("acct-voice", CONFIG, "+15551230000",
                                           call_sid="CA" + "3" * 32, base_url=BASE_URL))
    adapter.verify(VOICE, ringing)
    [event] = adapter.split(VOICE, ringing)
    [record] = adapter.normalize(VOICE, event.payload)
    assert isinstance(record, InboundMessage) and record.text == "Inbound call, ringing"
    done = _request(twilio.call_webhook("acct-voice", CONFIG, "+15551230000",
                                        call_sid="CA" + "3" * 32, status="completed",
                                        duration=65, base_url=BASE_URL))
    adapter.verify(VOICE, done)
    [event] = adapter.split(VOICE, done)
    items = adapter.normalize(VOICE, event.payload)
    edit = items[-1]
    assert isinstance(edit, MessageEdit) and edit.text == "Inbound call, 1 min 5 s, completed"


def test_webhook_signed_for_another_base_url_fails() -> None:
    hook = twilio.sms_webhook("acct-sms", CONFIG, "+15551230000", "hi",
                              base_url="http://localhost:9999")
    with pytest.raises(SignatureError):
        SmsAdapter().verify(SMS, _request(hook))


def test_reconcile_finds_a_send_through_the_list_endpoint(client: TestClient) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    message = OutboundMessage("m-9", Visibility.PRIVATE, "Refund issued",
                              recipient="+15551230000")
    assert SmsAdapter().find_sent(SMS, message, since, client) is None
    result = SmsAdapter().send(SMS, message, client)
    found = SmsAdapter().find_sent(SMS, message, since, client)
    assert found is not None and found.provider_id == result.provider_id
