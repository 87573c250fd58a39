"""Facebook Page + Messenger outbound: policy, Send API, comment replies, hide, errors."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from fb_helpers import BASE, NOW, PAGE_ID, account, adapter, context

from threadline.channels.base import (
    Attachment,
    ChannelAction,
    OutboundMessage,
    PermanentSendError,
    RetryableSendError,
    SendPolicyError,
    Visibility,
)

MESSAGES = f"/v25.0/{PAGE_ID}/messages"


def dm(text: str = "It ships tomorrow.", **kwargs: Any) -> OutboundMessage:
    fields: dict[str, Any] = {"recipient": "6001002003", "thread_key": "psid:6001002003",
                              **kwargs}
    return OutboundMessage(message_id="msg-1", visibility=Visibility.PRIVATE, text=text,
                           **fields)


def public(in_reply_to: str | None = "1234567890123_98765") -> OutboundMessage:
    return OutboundMessage(message_id="msg-2", visibility=Visibility.PUBLIC,
                           text="Yes! Blue is in stock.", in_reply_to=in_reply_to,
                           root_provider_id="1234567890_1234567890123")


def private_reply() -> OutboundMessage:
    return dm("Hi Jane, sending you the blue option privately.",
              options={"private_reply_to": "1234567890123_98765"}, recipient=None,
              thread_key=None)


class TestPolicy:
    def test_inside_window(self) -> None:
        adapter.check_send(account(), dm(), context(inbound_hours_ago=23))

    def test_window_closed_offers_human_agent_tag(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), dm(), context(inbound_hours_ago=30))
        assert info.value.code == "window_closed"
        assert "human_agent_tag" in info.value.allowed

    def test_human_agent_tag_within_7_days(self) -> None:
        adapter.check_send(account(), dm(options={"tag": "HUMAN_AGENT"}),
                           context(inbound_hours_ago=24 * 6))

    def test_human_agent_tag_after_7_days(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), dm(options={"tag": "HUMAN_AGENT"}),
                               context(inbound_hours_ago=24 * 8))
        assert info.value.code == "human_agent_window_closed"
        assert info.value.allowed == ["public"]

    def test_retired_tag_refused(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), dm(options={"tag": "SHIPPING_UPDATE"}), context())
        assert info.value.code == "unknown_tag"

    def test_person_must_write_first(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), dm(), context(inbound_hours_ago=None))
        assert "private_reply" in info.value.allowed

    def test_private_reply_within_7_days_ignores_window(self) -> None:
        adapter.check_send(account(), private_reply(), context(
            inbound_hours_ago=None, replied_item_created_at=NOW - timedelta(days=6)))

    def test_private_reply_only_once(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), private_reply(), context(
                inbound_hours_ago=None, replied_item_created_at=NOW - timedelta(hours=1),
                private_reply_used=True))
        assert info.value.code == "private_reply_used"
        assert info.value.allowed == ["public"]

    def test_private_reply_used_but_customer_answered(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), private_reply(), context(
                inbound_hours_ago=2, replied_item_created_at=NOW - timedelta(hours=3),
                private_reply_used=True))
        assert info.value.allowed == ["private", "human_agent_tag", "public"]

    def test_private_reply_after_7_days(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), private_reply(), context(
                inbound_hours_ago=None, replied_item_created_at=NOW - timedelta(days=8)))
        assert info.value.code == "private_reply_expired"

    def test_public_reply_needs_a_target(self) -> None:
        adapter.check_send(account(), public(), context(inbound_hours_ago=None))
        message = OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="hi")
        with pytest.raises(SendPolicyError) as info:
            adapter.check_send(account(), message, context())
        assert info.value.allowed == ["private"]

    def test_attachment_with_text_refused(self) -> None:
        message = dm(attachments=(Attachment(type="image", url="https://x.test/a.png"),))
        with pytest.raises(SendPolicyError):
            adapter.check_send(account(), message, context())

    def test_traits(self) -> None:
        traits = adapter.traits
        assert (traits.public, traits.private, traits.window_hours, traits.can_hide) == (
            True, True, 24, True)
        assert traits.char_limit is None and traits.identity_kind == "messenger"


@respx.mock(base_url=BASE, assert_all_called=True)
class TestSend:
    def test_response_inside_window(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(
            200, json={"recipient_id": "6001002003", "message_id": "m_Sent1"})
        result = adapter.send(account(), dm(), httpx.Client())
        assert result.provider_id == "m_Sent1"
        assert result.meta == {"recipient_id": "6001002003"}
        request = route.calls.last.request
        assert request.headers["authorization"] == "Bearer EAAG-page-token"
        assert json.loads(request.content) == {
            "recipient": {"id": "6001002003"}, "messaging_type": "RESPONSE",
            "message": {"text": "It ships tomorrow.", "metadata": "threadline:msg-1"}}

    def test_human_agent_tag(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(
            200, json={"recipient_id": "6001002003", "message_id": "m_Sent2"})
        adapter.send(account(send_metadata=False), dm(options={"tag": "HUMAN_AGENT"}),
                     httpx.Client())
        assert json.loads(route.calls.last.request.content) == {
            "recipient": {"id": "6001002003"}, "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT", "message": {"text": "It ships tomorrow."}}

    def test_private_reply_to_comment(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(
            200, json={"recipient_id": "6001002003", "message_id": "m_Private1"})
        result = adapter.send(account(), private_reply(), httpx.Client())
        body = json.loads(route.calls.last.request.content)
        assert body["recipient"] == {"comment_id": "1234567890123_98765"}
        assert "messaging_type" not in body
        assert result.meta["private_reply_to"] == "1234567890123_98765"

    def test_recipient_from_thread_key(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(MESSAGES).respond(200, json={"message_id": "m_3"})
        adapter.send(account(), dm(recipient=None), httpx.Client())
        assert json.loads(route.calls.last.request.content)["recipient"] == {"id": "6001002003"}

    def test_public_comment_reply(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post("/v25.0/1234567890123_98765/comments").respond(
            200, json={"id": "1234567890123_98799"})
        result = adapter.send(account(), public(), httpx.Client())
        assert result.provider_id == "1234567890123_98799"
        assert json.loads(route.calls.last.request.content) == {
            "message": "Yes! Blue is in stock."}

    def test_comment_on_post_when_no_comment(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post("/v25.0/1234567890_1234567890123/comments").respond(
            200, json={"id": "1234567890123_1"})
        assert adapter.send(account(), public(None), httpx.Client()).provider_id

    def test_graph_version_configurable(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(f"/v21.0/{PAGE_ID}/messages").respond(200, json={"message_id": "m_4"})
        assert adapter.send(account(graph_version="21.0"), dm(), httpx.Client()).provider_id

    @pytest.mark.parametrize("name", ["hide", "unhide"])
    def test_hide_unhide(self, respx_mock: respx.MockRouter, name: str) -> None:
        route = respx_mock.post("/v25.0/1234567890123_98765").respond(
            200, json={"success": True})
        result = adapter.act(account(), ChannelAction(name, target="1234567890123_98765"),
                             httpx.Client())
        assert json.loads(route.calls.last.request.content) == {"is_hidden": name == "hide"}
        assert result.meta == {"hidden": name == "hide"}


@respx.mock(base_url=BASE)
class TestSendErrors:
    def test_429_retry_after(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(429, headers={"Retry-After": "17"}, json={})
        with pytest.raises(RetryableSendError) as info:
            adapter.send(account(), dm(), httpx.Client())
        assert info.value.retry_after == 17

    def test_5xx(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(503, text="unavailable")
        with pytest.raises(RetryableSendError):
            adapter.send(account(), dm(), httpx.Client())

    def test_graph_rate_limit_code_is_retryable(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(400, json={"error": {
            "message": "Calls to this api have exceeded the rate limit.", "code": 613}})
        with pytest.raises(RetryableSendError) as info:
            adapter.send(account(), dm(), httpx.Client())
        assert info.value.code == "graph_613"

    def test_other_4xx_is_permanent_with_reason(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(400, json={"error": {
            "message": "(#10) This message is sent outside of allowed window.",
            "type": "OAuthException", "code": 10, "error_subcode": 2018278,
            "fbtrace_id": "Abc"}})
        with pytest.raises(PermanentSendError) as info:
            adapter.send(account(), dm(), httpx.Client())
        assert "outside of allowed window" in info.value.message
        assert info.value.code == "graph_10"

    def test_4xx_without_graph_body(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(403, text="forbidden")
        with pytest.raises(PermanentSendError) as info:
            adapter.send(account(), dm(), httpx.Client())
        assert info.value.code == "http_403" and "forbidden" in info.value.message

    def test_transport_error_is_retryable(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(RetryableSendError):
            adapter.send(account(), dm(), httpx.Client())

    def test_unreadable_answer_is_not_retried(self, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(MESSAGES).respond(200, text="<html>")
        with pytest.raises(PermanentSendError) as info:
            adapter.send(account(), dm(), httpx.Client())
        assert info.value.code == "unreadable_answer"

    def test_unsupported_action(self, respx_mock: respx.MockRouter) -> None:
        with pytest.raises(PermanentSendError):
            adapter.act(account(), ChannelAction("call", target="1"), httpx.Client())
