"""The X sandbox: adapter sends are recorded and answered; webhook builders pass the adapter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from threadline.channels.base import (
    AccountConfig,
    ChannelAction,
    InboundMessage,
    MessageDelete,
    MessageKind,
    OutboundMessage,
    PermanentSendError,
    RetryableSendError,
    Visibility,
    WebhookRequest,
)
from threadline.channels.urls import UrlPolicy
from threadline.channels.x.adapter import XAdapter
from threadline.sandbox import core
from threadline.sandbox.providers import x as sandbox_x

ALLOW_CUSTOM = UrlPolicy(allow_custom=True)  # the sandbox is not an official host

OWN_ID = "2244994945"
CONFIG = {"consumer_key": "ck", "consumer_secret": "sandbox_secret",
          "access_token": f"{OWN_ID}-token", "access_token_secret": "ats", "user_id": OWN_ID,
          "api_base_url": "http://testserver/x"}
ACCOUNT = AccountConfig(id="acc-x", kind="x", name="Acme", config=CONFIG, urls=ALLOW_CUSTOM)
ADAPTER = XAdapter()


@pytest.fixture
def client() -> Iterator[TestClient]:
    sandbox_x.reset()
    with TestClient(core.create_app(["x"])) as test_client:
        yield test_client
    sandbox_x.reset()


def calls(client: TestClient) -> list[dict[str, object]]:
    answer: list[dict[str, object]] = client.get("/_sandbox/calls?provider=x").json()["calls"]
    return answer


def as_request(hook: core.SignedWebhook) -> WebhookRequest:
    parts = urlsplit(hook.path)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return WebhookRequest(method=hook.method, url=f"https://threadline.test{parts.path}",
                          headers={k.lower(): v for k, v in hook.headers.items()},
                          query=query, body=hook.body)


def inbound(hook: core.SignedWebhook) -> list[object]:
    request = as_request(hook)
    assert hook.path == "/webhooks/x/acc-x"
    ADAPTER.verify(ACCOUNT, request)
    return [item for event in ADAPTER.split(ACCOUNT, request)
            for item in ADAPTER.normalize(ACCOUNT, event.payload)]


class TestSends:
    def test_public_reply_is_recorded_and_answered(self, client: TestClient) -> None:
        message = OutboundMessage(message_id="m1", visibility=Visibility.PUBLIC,
                                  text="Sorry! Please DM us.", in_reply_to="1897000000000000001")
        result = ADAPTER.send(ACCOUNT, message, client)
        assert result.provider_id.isdigit() and len(result.provider_id) == 19
        [call] = calls(client)
        assert (call["method"], call["path"]) == ("POST", "/2/tweets")
        assert call["json"] == {"text": "Sorry! Please DM us.",
                                "reply": {"in_reply_to_tweet_id": "1897000000000000001"}}

    def test_dm_is_recorded_and_answered(self, client: TestClient) -> None:
        message = OutboundMessage(message_id="m2", visibility=Visibility.PRIVATE,
                                  text="We found it.", recipient="111222333")
        result = ADAPTER.send(ACCOUNT, message, client)
        assert result.meta["dm_conversation_id"] == f"111222333-{OWN_ID}"
        [call] = calls(client)
        assert call["path"] == "/2/dm_conversations/with/111222333/messages"
        assert call["json"] == {"text": "We found it."}
        found = ADAPTER.reconcile(ACCOUNT, message, client)
        assert found is not None and found.provider_id == result.provider_id

    def test_a_resend_after_a_crash_is_reconciled_not_doubled(self, client: TestClient) -> None:
        message = OutboundMessage(message_id="m3", visibility=Visibility.PUBLIC,
                                  text="Your refund is on its way.", in_reply_to="42")
        first = ADAPTER.send(ACCOUNT, message, client)
        again = ADAPTER.send(ACCOUNT, message, client)  # the commit of `first` was lost
        assert again.provider_id == first.provider_id and again.meta["reconciled"] is True

    def test_the_same_text_to_two_customers_is_two_tweets(self, client: TestClient) -> None:
        first, second = (OutboundMessage(message_id=f"m{n}", visibility=Visibility.PUBLIC,
                                         text="Thanks for waiting!", in_reply_to=str(n))
                         for n in (1, 2))
        assert (ADAPTER.send(ACCOUNT, first, client).provider_id
                != ADAPTER.send(ACCOUNT, second, client).provider_id)

    def test_faults_map_to_typed_errors(self, client: TestClient) -> None:
        message = OutboundMessage(message_id="m4", visibility=Visibility.PUBLIC, text="hi")
        client.post("/_sandbox/faults", json={"provider": "x", "path_contains": "/2/tweets",
                                              "status": 429, "retry_after": 7})
        with pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, message, client)
        assert info.value.retry_after == 7
        client.post("/_sandbox/faults", json={"provider": "x", "path_contains": "/2/tweets",
                                              "status": 400, "body": {"detail": "bad reply"}})
        with pytest.raises(PermanentSendError) as perm:
            ADAPTER.send(ACCOUNT, message, client)
        assert "bad reply" in perm.value.message

    def test_unsigned_calls_get_401(self, client: TestClient) -> None:
        response = client.post("/x/2/tweets", json={"text": "hi"})
        assert response.status_code == 401

    def test_delete_action(self, client: TestClient) -> None:
        result = ADAPTER.act(ACCOUNT, ChannelAction(name="delete", target="123"), client)
        assert result.meta == {"deleted": True}


class TestPolling:
    def test_mentions_told_to_the_sandbox_are_polled(self, client: TestClient) -> None:
        sandbox_x.add_mention(OWN_ID, "1900000000000001001", "111222333", "jane_doe",
                              "@AcmeSupport where is my order?")
        sandbox_x.add_mention(OWN_ID, "1900000000000001002", "111222333", "jane_doe",
                              "@AcmeSupport hello?", in_reply_to="1900000000000001001")
        sandbox_x.add_mention("999", "1900000000000001003", "5", "other", "not for us")
        events, cursor = ADAPTER.poll(ACCOUNT, None, client)
        assert [e.provider_event_id for e in events] == ["tweet:1900000000000001002",
                                                         "tweet:1900000000000001001"]
        assert cursor == {"since_id": "1900000000000001002"}
        items = [i for e in events for i in ADAPTER.normalize(ACCOUNT, e.payload)]
        assert isinstance(items[0], InboundMessage)
        assert items[0].in_reply_to == "1900000000000001001"
        assert items[0].author.handle == "@jane_doe"
        events, _ = ADAPTER.poll(ACCOUNT, cursor, client)
        assert events == []
        assert calls(client)[-1]["query"]["since_id"] == "1900000000000001002"


class TestWebhookBuilders:
    def test_mention(self) -> None:
        at = datetime(2025, 3, 5, 10, 15, tzinfo=UTC)
        hook = sandbox_x.mention_webhook("acc-x", CONFIG, "1897000000000000001", "111222333",
                                         "jane_doe", "@AcmeSupport my order hasn't arrived",
                                         in_reply_to="1896999999999999999", created_at=at)
        [msg] = inbound(hook)
        assert isinstance(msg, InboundMessage) and msg.kind is MessageKind.COMMENT
        assert msg.in_reply_to == "1896999999999999999" and msg.created_at == at
        assert msg.author.handle == "@jane_doe" and not msg.author.is_self
        assert json.loads(hook.body)["for_user_id"] == OWN_ID

    def test_dm(self) -> None:
        hook = sandbox_x.dm_webhook("acc-x", CONFIG, "1897000000000000500", "111222333",
                                    "jane_doe", "Order #4411, still nothing")
        [msg] = inbound(hook)
        assert isinstance(msg, InboundMessage) and msg.visibility is Visibility.PRIVATE
        assert msg.thread_key == "dm:111222333" and msg.author.handle == "@jane_doe"

    def test_delete(self) -> None:
        hook = sandbox_x.delete_webhook("acc-x", CONFIG, "1897000000000000001", "111222333")
        [item] = inbound(hook)
        assert isinstance(item, MessageDelete) and item.provider_id == "1897000000000000001"

    def test_crc(self) -> None:
        hook = sandbox_x.crc_webhook("acc-x", "crc_test_token_123")
        account = AccountConfig(id="acc-x", kind="x", name="Acme",
                                config={**CONFIG, "consumer_secret": "test_consumer_secret"},
                                urls=ALLOW_CUSTOM)
        response = ADAPTER.handshake(account, as_request(hook))
        assert response is not None and json.loads(response.body) == {
            "response_token": "sha256=5twVdWfP1pq+LmMfANnX6wUBwav6QKR2ECmYzL4rqHo="}
