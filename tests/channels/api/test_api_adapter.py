"""The generic API channel: signature, parsing, normalisation, fuzzing, sends."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline.channels.api.adapter import ApiAdapter, sign
from threadline.channels.base import (
    AccountConfig,
    ChannelError,
    InboundMessage,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    RetryableSendError,
    SignatureError,
    StatusUpdate,
    Visibility,
    WebhookRequest,
)
from threadline.channels.urls import UrlPolicy

SECRET = "s3cret"
adapter = ApiAdapter()
account = AccountConfig(id="acc", kind="api", name="crm",
                        urls=UrlPolicy(trusted_hosts=frozenset({"crm.test"})),
                        config={"secret": SECRET, "outbound_url": "https://crm.test/out",
                                "identity_kind": "x"})


def request(body: bytes, signature: str | None = "auto") -> WebhookRequest:
    headers = {"content-type": "application/json"}
    if signature == "auto":
        headers["x-threadline-signature"] = sign(SECRET, body)
    elif signature is not None:
        headers["x-threadline-signature"] = signature
    return WebhookRequest("POST", "https://tl.test/webhooks/api/acc", headers, {}, body)


MESSAGE = {"id": "e1", "type": "message", "message": {
    "id": "m1", "text": "hi", "visibility": "public", "created_at": "2026-01-01T10:00:00Z",
    "author": {"id": "42", "handle": "@ann", "email": "ann@example.com"},
    "in_reply_to": "m0"}}


class TestInbound:
    def test_signature(self):
        body = json.dumps({"events": [MESSAGE]}).encode()
        adapter.verify(account, request(body))
        with pytest.raises(SignatureError):
            adapter.verify(account, request(body, "sha256=" + "0" * 64))
        with pytest.raises(SignatureError):
            adapter.verify(account, request(body, None))

    def test_message_and_status(self):
        status = {"id": "e2", "type": "status", "status": {
            "message_id": "m9", "state": "delivered", "at": "2026-01-01T10:01:00Z"}}
        body = json.dumps({"events": [MESSAGE, status]}).encode()
        events = adapter.split(account, request(body))
        assert [e.provider_event_id for e in events] == ["e1", "e2"]
        [msg] = adapter.normalize(account, events[0].payload)
        assert isinstance(msg, InboundMessage)
        assert msg.visibility is Visibility.PUBLIC and msg.in_reply_to == "m0"
        assert msg.author.identity_kind == "x" and msg.author.coordinates[0].kind == "email"
        [st_] = adapter.normalize(account, events[1].payload)
        assert isinstance(st_, StatusUpdate) and st_.state.value == "delivered"

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=400))
    def test_random_bytes_only_typed_errors(self, raw):
        with contextlib.suppress(ChannelError):
            for event in adapter.split(account, request(raw)):
                adapter.normalize(account, event.payload)

    @settings(max_examples=200, deadline=None)
    @given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                        lambda c: st.lists(c, max_size=3)
                        | st.dictionaries(st.sampled_from(
                            ["id", "type", "message", "text", "author", "created_at",
                             "events", "status", "visibility"]), c, max_size=4),
                        max_leaves=20))
    def test_random_json_only_typed_errors(self, value):
        with contextlib.suppress(PayloadError):
            adapter.normalize(account, value if isinstance(value, dict) else {"x": value})


class TestSend:
    outbound = OutboundMessage(message_id="00000000-0000-0000-0000-000000000001",
                               visibility=Visibility.PUBLIC, text="hello", in_reply_to="m1")

    @respx.mock
    def test_success_signed_with_idempotency_key(self):
        route = respx.post("https://crm.test/out").mock(
            return_value=httpx.Response(200, json={"id": "crm-7"}))
        with httpx.Client() as http:
            result = adapter.send(account, self.outbound, http)
        assert result.provider_id == "crm-7"
        sent = route.calls[0].request
        assert sent.headers["x-threadline-signature"] == sign(SECRET, sent.content)
        assert sent.headers["idempotency-key"] == self.outbound.message_id

    @respx.mock
    def test_error_mapping(self):
        respx.post("https://crm.test/out").mock(side_effect=[
            httpx.Response(429, headers={"retry-after": "3"}), httpx.Response(503),
            httpx.Response(400, text="bad recipient")])
        with httpx.Client() as http:
            with pytest.raises(RetryableSendError) as rate:
                adapter.send(account, self.outbound, http)
            assert rate.value.retry_after == 3
            with pytest.raises(RetryableSendError):
                adapter.send(account, self.outbound, http)
            with pytest.raises(PermanentSendError) as perm:
                adapter.send(account, self.outbound, http)
            assert "bad recipient" in perm.value.message
