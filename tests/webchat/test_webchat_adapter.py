"""The web chat adapter on its own: fixtures, normalisation, policy, send, fuzzing."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadline.channels.base import (
    AccountConfig,
    ChannelError,
    Coordinate,
    DeliveryState,
    InboundMessage,
    OutboundMessage,
    PayloadError,
    SendContext,
    SendPolicyError,
    SignatureError,
    StatusUpdate,
    Visibility,
    WebhookRequest,
)
from threadline.channels.registry import get_adapter
from threadline.channels.webchat.adapter import WebchatAdapter

FIXTURES = Path(__file__).resolve().parents[2] / "src/threadline/channels/webchat/fixtures"
ACCOUNT = AccountConfig(id="acc-1", kind="webchat", name="chat", config={})
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def request(body: bytes) -> WebhookRequest:
    return WebhookRequest(method="POST", url="/webchat/acc-1/messages",
                          headers={"content-type": "application/json"}, query={}, body=body)


@pytest.fixture
def adapter() -> WebchatAdapter:
    found = get_adapter("webchat")
    assert isinstance(found, WebchatAdapter)
    return found


class TestFixtures:
    def test_anonymous_message(self, adapter: WebchatAdapter):
        [event] = adapter.split(ACCOUNT, request((FIXTURES / "message.json").read_bytes()))
        assert event.provider_event_id == (
            "v_Q2hhdFZpc2l0b3IwMDAx:3f1c2a9b8e7d4c6a9b0e1f2a3b4c5d6e")
        [item] = adapter.normalize(ACCOUNT, event.payload)
        assert isinstance(item, InboundMessage)
        assert item.provider_id == event.provider_event_id
        assert item.visibility is Visibility.PRIVATE
        assert item.thread_key == "visitor:v_Q2hhdFZpc2l0b3IwMDAx"
        assert (item.author.identity_kind, item.author.provider_user_id) == (
            "webchat", "v_Q2hhdFZpc2l0b3IwMDAx")
        assert item.author.coordinates == ()
        assert item.created_at == NOW and item.link_token is None
        assert item.meta == {"echo_id": "3f1c2a9b8e7d4c6a9b0e1f2a3b4c5d6e", "verified": False,
                             "page_url": "https://shop.example/orders"}

    def test_entry_form_email_is_a_coordinate(self, adapter: WebchatAdapter):
        [item] = adapter.normalize(ACCOUNT, fixture("message_entry_form.json"))
        assert isinstance(item, InboundMessage)
        assert item.author.display_name == "Ada Lovelace"
        assert item.author.coordinates == (Coordinate("email", "ada@example.com"),)

    def test_short_link_code_is_the_link_token(self, adapter: WebchatAdapter):
        [item] = adapter.normalize(ACCOUNT, fixture("message_short_link.json"))
        assert isinstance(item, InboundMessage)
        assert item.link_token == "eXampleShortLinkCodeOf144bitsXX"

    def test_verified_visitor(self, adapter: WebchatAdapter):
        [item] = adapter.normalize(ACCOUNT, fixture("message_verified.json"))
        assert isinstance(item, InboundMessage)
        assert item.author.provider_user_id == "u:customer-4242"
        assert item.meta["verified"] is True

    def test_read_receipt(self, adapter: WebchatAdapter):
        [event] = adapter.split(ACCOUNT, request((FIXTURES / "read.json").read_bytes()))
        assert event.provider_event_id.endswith(":read:6c1f3e0a-5b7d-4f43-9a51-0e2d9c8b7a61")
        [item] = adapter.normalize(ACCOUNT, event.payload)
        assert isinstance(item, StatusUpdate)
        assert item.state is DeliveryState.READ
        assert item.provider_id == "6c1f3e0a-5b7d-4f43-9a51-0e2d9c8b7a61"

    def test_every_fixture_round_trips(self, adapter: WebchatAdapter):
        for path in sorted(FIXTURES.glob("*.json")):
            [event] = adapter.split(ACCOUNT, request(path.read_bytes()))
            assert len(adapter.normalize(ACCOUNT, event.payload)) == 1, path.name


class TestRefusals:
    def test_webhook_requests_are_never_verified(self, adapter: WebchatAdapter):
        with pytest.raises(SignatureError) as exc:
            adapter.verify(ACCOUNT, request((FIXTURES / "message.json").read_bytes()))
        assert exc.value.code == "not_a_webhook"

    @pytest.mark.parametrize("body", [b"", b"[]", b'{"type":"message"}',
                                      b'{"type":"read","visitor":{"id":"v_abc"}}',
                                      b'{"type":"message","visitor":{"id":"v_abc"},'
                                      b'"message":{"echo_id":"a b","text":"x",'
                                      b'"sent_at":"2026-11-01T12:00:00Z"}}'])
    def test_malformed_bodies_are_payload_errors(self, adapter: WebchatAdapter, body: bytes):
        with pytest.raises(PayloadError):
            adapter.split(ACCOUNT, request(body))


class TestOutbound:
    def message(self, **kw: Any) -> OutboundMessage:
        base: dict[str, Any] = {"message_id": "m-1", "visibility": Visibility.PRIVATE,
                                "text": "Hello!", "recipient": "v_abc",
                                "thread_key": "visitor:v_abc"}
        base.update(kw)
        return OutboundMessage(**base)

    def test_send_confirms_without_network(self, adapter: WebchatAdapter):
        transport = httpx.MockTransport(lambda r: pytest.fail("no network call expected"))
        with httpx.Client(transport=transport) as http:
            result = adapter.send(ACCOUNT, self.message(), http)
        assert (result.provider_id, result.state) == ("m-1", DeliveryState.SENT)

    def test_policy(self, adapter: WebchatAdapter):
        context = SendContext(now=NOW)
        adapter.check_send(ACCOUNT, self.message(), context)
        with pytest.raises(SendPolicyError) as public:
            adapter.check_send(ACCOUNT, self.message(visibility=Visibility.PUBLIC), context)
        assert public.value.code == "no_public_surface"
        with pytest.raises(SendPolicyError) as nobody:
            adapter.check_send(ACCOUNT, self.message(recipient=None, thread_key=None), context)
        assert nobody.value.code == "no_visitor"
        with pytest.raises(SendPolicyError) as long:
            adapter.check_send(ACCOUNT, self.message(text="x" * 4001), context)
        assert long.value.code == "too_long"
        assert adapter.traits.identity_kind == "webchat" and adapter.traits.realtime


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4), max_leaves=20)


class TestFuzz:
    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(payload=st.dictionaries(
        st.sampled_from(["type", "visitor", "message", "read", "link_token", "page_url"]),
        json_values, max_size=6))
    def test_normalize_only_raises_typed_errors(self, adapter: WebchatAdapter,
                                                payload: dict[str, Any]):
        with contextlib.suppress(ChannelError):
            adapter.normalize(ACCOUNT, payload)

    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(body=st.binary(max_size=300))
    def test_split_only_raises_typed_errors(self, adapter: WebchatAdapter, body: bytes):
        with contextlib.suppress(ChannelError):
            adapter.split(ACCOUNT, request(body))
