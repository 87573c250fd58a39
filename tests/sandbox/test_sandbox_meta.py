"""The Meta sandbox: Graph sends are recorded and answered; webhook builders pass the adapters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from threadline.channels.base import (
    AccountConfig,
    ChannelAction,
    ChannelAdapter,
    DeliveryState,
    InboundMessage,
    MessageKind,
    OutboundMessage,
    PermanentSendError,
    RetryableSendError,
    StatusUpdate,
    Visibility,
    WebhookRequest,
)
from threadline.channels.facebook.adapter import FacebookAdapter
from threadline.channels.instagram.adapter import InstagramAdapter
from threadline.channels.urls import UrlPolicy
from threadline.channels.whatsapp.adapter import WhatsAppAdapter
from threadline.sandbox import core
from threadline.sandbox.providers import meta as sandbox_meta

ALLOW_CUSTOM = UrlPolicy(allow_custom=True)  # the sandbox is not an official host

COMMON = {"app_secret": "sandbox_app_secret", "verify_token": "vt", "access_token": "EAAG-tok",
          "api_base_url": "http://testserver/meta"}
FB_CONFIG = {**COMMON, "page_id": "1234567890"}
IG_CONFIG = {**COMMON, "ig_user_id": "17841400000000000"}
WA_CONFIG = {**COMMON, "phone_number_id": "106540352242922"}
FB = AccountConfig(id="acc-fb", kind="facebook", name="Page", config=FB_CONFIG, urls=ALLOW_CUSTOM)
IG = AccountConfig(id="acc-ig", kind="instagram", name="IG", config=IG_CONFIG, urls=ALLOW_CUSTOM)
WA = AccountConfig(id="acc-wa", kind="whatsapp", name="WA", config=WA_CONFIG, urls=ALLOW_CUSTOM)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(core.create_app(["meta"])) as test_client:
        yield test_client


def calls(client: TestClient) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = client.get("/_sandbox/calls?provider=meta").json()["calls"]
    return answer


def inbound(adapter: ChannelAdapter, account: AccountConfig, hook: core.SignedWebhook,
            kind: str) -> list[Any]:
    assert hook.path == f"/webhooks/{kind}/{account.id}"
    request = WebhookRequest(method=hook.method, url=f"https://threadline.test{hook.path}",
                             headers={k.lower(): v for k, v in hook.headers.items()},
                             query={}, body=hook.body)
    adapter.verify(account, request)
    items: list[Any] = []
    for event in adapter.split(account, request):
        items.extend(adapter.normalize(account, event.payload))
    return items


def private(text: str, recipient: str | None, **options: Any) -> OutboundMessage:
    return OutboundMessage(message_id="msg-1", visibility=Visibility.PRIVATE, text=text,
                           recipient=recipient, options=options)


class TestSends:
    def test_messenger_send(self, client: TestClient) -> None:
        result = FacebookAdapter().send(FB, private("Hello", "6001002003"), client)
        assert result.provider_id.startswith("m_sbx")
        [call] = calls(client)
        assert (call["method"], call["path"]) == ("POST", "/v25.0/1234567890/messages")
        assert call["json"]["messaging_type"] == "RESPONSE"
        assert call["json"]["recipient"] == {"id": "6001002003"}

    def test_private_reply_with_comment_id(self, client: TestClient) -> None:
        message = private("Sent privately", None, private_reply_to="111_222")
        result = FacebookAdapter().send(FB, message, client)
        assert result.meta["private_reply_to"] == "111_222" and result.meta["recipient_id"]
        assert calls(client)[0]["json"]["recipient"] == {"comment_id": "111_222"}

    def test_public_comment_reply_and_hide(self, client: TestClient) -> None:
        message = OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="Yes!",
                                  in_reply_to="111_222")
        result = FacebookAdapter().send(FB, message, client)
        assert result.provider_id.startswith("111_")
        hidden = FacebookAdapter().act(FB, ChannelAction("hide", target="111_222"), client)
        assert hidden.meta == {"hidden": True}
        paths = [c["path"] for c in calls(client)]
        assert paths == ["/v25.0/111_222/comments", "/v25.0/111_222"]

    def test_instagram_reply_dm_and_hide(self, client: TestClient) -> None:
        adapter = InstagramAdapter()
        reply = OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="We do!",
                                in_reply_to="17900000000000002")
        assert adapter.send(IG, reply, client).provider_id.startswith("179")
        assert adapter.send(IG, private("Hi", "7000000000000001"), client).provider_id
        adapter.act(IG, ChannelAction("unhide", target="17900000000000002"), client)
        assert [c["path"] for c in calls(client)] == [
            "/v25.0/17900000000000002/replies", "/v25.0/17841400000000000/messages",
            "/v25.0/17900000000000002"]

    def test_whatsapp_text_and_template(self, client: TestClient) -> None:
        adapter = WhatsAppAdapter()
        text = adapter.send(WA, private("Shipped", "+16505551234"), client)
        assert text.provider_id.startswith("wamid.") and text.meta == {"wa_id": "16505551234"}
        template = {"name": "order_update", "language": "en_US", "components": []}
        assert adapter.send(WA, private("", "+16505551234", template=template), client)
        first, second = calls(client)
        assert first["path"] == "/v25.0/106540352242922/messages"
        assert first["json"]["text"]["body"] == "Shipped"
        assert second["json"]["template"]["language"]["code"] == "en_US"

    def test_missing_token_is_permanent(self, client: TestClient) -> None:
        account = AccountConfig(id="acc-fb", kind="facebook", name="Page",
                                config={**FB_CONFIG, "access_token": " "}, urls=ALLOW_CUSTOM)
        with pytest.raises(PermanentSendError) as info:
            FacebookAdapter().send(account, private("Hello", "1"), client)
        assert info.value.code == "graph_2500"

    def test_faults(self, client: TestClient) -> None:
        client.post("/_sandbox/faults", json={"provider": "meta", "path_contains": "/messages",
                                              "status": 429, "retry_after": 4})
        with pytest.raises(RetryableSendError) as info:
            WhatsAppAdapter().send(WA, private("Hi", "+16505551234"), client)
        assert info.value.retry_after == 4
        assert WhatsAppAdapter().send(WA, private("Hi", "+16505551234"), client).provider_id


class TestWebhooks:
    def test_page_comment(self) -> None:
        hook = sandbox_meta.page_comment_webhook("acc-fb", FB_CONFIG, text="Blue? \u00e9",
                                                 post_id="1234567890_55")
        assert b"\\u00e9" in hook.body
        [item] = inbound(FacebookAdapter(), FB, hook, "facebook")
        assert isinstance(item, InboundMessage)
        assert (item.kind, item.root_provider_id, item.text) == (
            MessageKind.COMMENT, "1234567890_55", "Blue? \u00e9")

    def test_page_post(self) -> None:
        [item] = inbound(FacebookAdapter(), FB, sandbox_meta.page_post_webhook(
            "acc-fb", FB_CONFIG, text="Where is my order?"), "facebook")
        assert isinstance(item, InboundMessage) and item.kind is MessageKind.POST

    def test_messenger_message_and_read(self) -> None:
        [item] = inbound(FacebookAdapter(), FB, sandbox_meta.messenger_message_webhook(
            "acc-fb", FB_CONFIG, text="Hi", psid="42", reply_to="m_prev"), "facebook")
        assert isinstance(item, InboundMessage)
        assert (item.thread_key, item.in_reply_to) == ("psid:42", "m_prev")
        [status] = inbound(FacebookAdapter(), FB, sandbox_meta.messenger_read_webhook(
            "acc-fb", FB_CONFIG, psid="42", watermark_ms=1741170005000), "facebook")
        assert status == StatusUpdate(provider_id="", state=DeliveryState.READ,
                                      at=datetime(2025, 3, 5, 10, 20, 5, tzinfo=UTC),
                                      thread_key="psid:42")

    def test_messenger_kind_path(self) -> None:
        hook = sandbox_meta.messenger_message_webhook("acc-fb", FB_CONFIG, text="Hi",
                                                      kind="messenger")
        assert hook.path == "/webhooks/messenger/acc-fb"

    def test_instagram_comment_and_dm(self) -> None:
        [comment] = inbound(InstagramAdapter(), IG, sandbox_meta.instagram_comment_webhook(
            "acc-ig", IG_CONFIG, text="Price?", parent_id="179000"), "instagram")
        assert isinstance(comment, InboundMessage) and comment.in_reply_to == "179000"
        [dm] = inbound(InstagramAdapter(), IG, sandbox_meta.instagram_dm_webhook(
            "acc-ig", IG_CONFIG, text="Hello", igsid="77"), "instagram")
        assert isinstance(dm, InboundMessage) and dm.thread_key == "igsid:77"

    def test_whatsapp_message_and_statuses(self) -> None:
        [message] = inbound(WhatsAppAdapter(), WA, sandbox_meta.whatsapp_message_webhook(
            "acc-wa", WA_CONFIG, text="Hi", wa_id="31612345678", context_id="wamid.X"),
            "whatsapp")
        assert isinstance(message, InboundMessage)
        assert (message.thread_key, message.in_reply_to) == ("+31612345678", "wamid.X")
        for state in ("sent", "delivered", "read", "failed"):
            [status] = inbound(WhatsAppAdapter(), WA, sandbox_meta.whatsapp_status_webhook(
                "acc-wa", WA_CONFIG, wamid="wamid.OUT", status=state), "whatsapp")
            assert isinstance(status, StatusUpdate) and status.state == DeliveryState(state)
            assert (status.error is not None) == (state == "failed")
