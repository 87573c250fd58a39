"""The Telegram sandbox answers the adapter's sends and its webhooks pass the adapter's checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from threadline.channels.base import (
    AccountConfig,
    InboundMessage,
    MessageEdit,
    OutboundMessage,
    PermanentSendError,
    RetryableSendError,
    Visibility,
    WebhookRequest,
)
from threadline.channels.telegram.adapter import TelegramAdapter
from threadline.channels.urls import UrlPolicy
from threadline.sandbox.core import SignedWebhook, create_app
from threadline.sandbox.providers import telegram

ALLOW_CUSTOM = UrlPolicy(allow_custom=True)  # the sandbox is not an official host

TOKEN = "6000000001:AAHsandboxTokenForTests"
CONFIG: dict[str, Any] = {"bot_token": TOKEN, "secret_token": "sandbox_secret-1",
                          "api_base_url": "http://testserver" + telegram.PREFIX}
ACCOUNT = AccountConfig("acct-tg", "telegram", "Bot", CONFIG, urls=ALLOW_CUSTOM)
ADAPTER = TelegramAdapter()


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(["telegram"]))


def _request(hook: SignedWebhook) -> WebhookRequest:
    return WebhookRequest("POST", "http://threadline" + hook.path,
                          {k.lower(): v for k, v in hook.headers.items()}, {}, hook.body)


def _items(hook: SignedWebhook) -> list[object]:
    request = _request(hook)
    ADAPTER.verify(ACCOUNT, request)
    return [i for e in ADAPTER.split(ACCOUNT, request) for i in ADAPTER.normalize(ACCOUNT,
                                                                                 e.payload)]


def test_send_message_is_recorded_and_answered(client: TestClient) -> None:
    message = OutboundMessage("m-1", Visibility.PRIVATE, "Sure, what's your reference?",
                              recipient="700100200", thread_key="tg:700100200",
                              in_reply_to="700100200:5120")
    result = ADAPTER.send(ACCOUNT, message, client)
    chat, _, mid = result.provider_id.partition(":")
    assert chat == "700100200" and mid.isdigit()
    calls = client.get("/_sandbox/calls", params={"provider": "telegram"}).json()["calls"]
    [call] = calls
    assert call["path"] == f"/bot{TOKEN}/sendMessage"
    assert call["json"] == {"chat_id": 700100200, "text": "Sure, what's your reference?",
                            "reply_parameters": {"message_id": 5120,
                                                 "allow_sending_without_reply": True}}


def test_send_fault_429(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={
        "provider": "telegram", "path_contains": "sendMessage", "status": 429,
        "body": {"ok": False, "error_code": 429, "description": "Too Many Requests: retry "
                 "after 4", "parameters": {"retry_after": 4}}})
    message = OutboundMessage("m-1", Visibility.PRIVATE, "hi", recipient="700100200")
    with pytest.raises(RetryableSendError) as info:
        ADAPTER.send(ACCOUNT, message, client)
    assert info.value.retry_after == 4


def test_empty_text_is_refused_like_telegram(client: TestClient) -> None:
    message = OutboundMessage("m-1", Visibility.PRIVATE, " ", recipient="700100200")
    with pytest.raises(PermanentSendError):
        ADAPTER.send(ACCOUNT, message, client)


def test_private_message_webhook() -> None:
    hook = telegram.telegram_message_webhook("acct-tg", CONFIG, chat_id=700100200,
                                             user_id=700100200, text="Where is my refund?",
                                             message_id=77, update_id=9001, username="janedoe")
    assert hook.path == "/webhooks/telegram/acct-tg"
    [item] = _items(hook)
    assert isinstance(item, InboundMessage)
    assert item.provider_id == "700100200:77" and item.thread_key == "tg:700100200"
    assert item.author.provider_user_id == "700100200" and item.text == "Where is my refund?"
    assert item.created_at <= datetime.now(UTC)


def test_group_reply_webhook() -> None:
    hook = telegram.telegram_message_webhook("acct-tg", CONFIG, chat_id=-100123, user_id=5,
                                             text="same here", reply_to_message_id=10,
                                             chat_type="supergroup", chat_title="Fans")
    [item] = _items(hook)
    assert isinstance(item, InboundMessage)
    assert item.visibility is Visibility.PUBLIC and item.in_reply_to == "-100123:10"


def test_edit_and_channel_post_webhooks() -> None:
    [edit] = _items(telegram.telegram_edited_message_webhook(
        "acct-tg", CONFIG, chat_id=700100200, user_id=700100200, message_id=77, text="fixed"))
    assert isinstance(edit, MessageEdit) and edit.provider_id == "700100200:77"
    [post] = _items(telegram.telegram_channel_post_webhook("acct-tg", CONFIG, -100999, "news"))
    assert isinstance(post, InboundMessage) and post.visibility is Visibility.PUBLIC


def test_update_ids_are_fresh() -> None:
    a = _request(telegram.telegram_message_webhook("acct-tg", CONFIG, 1, 1, "a"))
    b = _request(telegram.telegram_message_webhook("acct-tg", CONFIG, 1, 1, "b"))
    [ea], [eb] = ADAPTER.split(ACCOUNT, a), ADAPTER.split(ACCOUNT, b)
    assert ea.provider_event_id != eb.provider_event_id
