"""X outbound: OAuth 1.0a signing, send() against respx, error mapping, policy, reconcile."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest
import respx
from x_helpers import ADAPTER, API, OWN_ID, fixture_bytes, make_account

from threadline.channels.base import (
    Attachment,
    ChannelAction,
    OutboundMessage,
    PermanentSendError,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    Visibility,
)
from threadline.channels.x.oauth import oauth1_header, signature_base_string
from threadline.channels.x.outbound import weighted_length

ACCOUNT = make_account()
CONTEXT = SendContext(now=datetime(2025, 3, 5, 12, 0, tzinfo=UTC))
REPLY = OutboundMessage(message_id="m1", visibility=Visibility.PUBLIC,
                        text="Hi Jane, sorry about that. Please DM us your order number.",
                        recipient="111222333", in_reply_to="1897000000000000001")
DM = OutboundMessage(message_id="m2", visibility=Visibility.PRIVATE,
                     text="Thanks, we found your order.", recipient="111222333",
                     thread_key="dm:111222333")


class TestOAuth1:
    def test_x_documented_example(self) -> None:
        """X's "Creating a signature" walkthrough: same inputs, same signature."""
        header = oauth1_header(
            "POST", "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
            consumer_key="xvz1evFS4wEEPTGEFPHBog",
            consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
            extra_params={"status": "Hello Ladies + Gentlemen, a signed OAuth request!"},
            nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", timestamp=1318622958)
        assert 'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"' in header
        assert header.startswith("OAuth oauth_consumer_key=")

    def test_base_string_drops_default_port_and_sorts_query(self) -> None:
        base = signature_base_string("get", "HTTPS://API.X.COM:443/2/a?b=2&a=1", [("c", "3")])
        assert base == "GET&https%3A%2F%2Fapi.x.com%2F2%2Fa&a%3D1%26b%3D2%26c%3D3"

    @respx.mock
    def test_bearer_token_wins_when_present(self) -> None:
        route = respx.post(f"{API}/2/tweets").respond(
            201, content=fixture_bytes("v2_tweet_created.json"))
        with httpx.Client() as http:
            ADAPTER.send(make_account(bearer_token="user-token"), REPLY, http)
        assert route.calls.last.request.headers["authorization"] == "Bearer user-token"

    def test_missing_credentials_are_permanent(self) -> None:
        account = make_account(access_token_secret="")
        with httpx.Client() as http, pytest.raises(PermanentSendError) as info:
            ADAPTER.send(account, REPLY, http)
        assert info.value.code == "account_misconfigured"
        assert "access_token_secret" in info.value.message


class TestSend:
    @respx.mock
    def test_public_reply(self) -> None:
        route = respx.post(f"{API}/2/tweets").respond(
            201, content=fixture_bytes("v2_tweet_created.json"))
        with httpx.Client() as http:
            result = ADAPTER.send(ACCOUNT, REPLY, http)
        assert result.provider_id == "1897000000000000002"
        request = route.calls.last.request
        assert json.loads(request.content) == {
            "text": REPLY.text, "reply": {"in_reply_to_tweet_id": "1897000000000000001"}}
        assert request.headers["authorization"].startswith("OAuth ")
        assert 'oauth_token="2244994945-at"' in request.headers["authorization"]

    @respx.mock
    def test_dm(self) -> None:
        route = respx.post(f"{API}/2/dm_conversations/with/111222333/messages").respond(
            201, content=fixture_bytes("v2_dm_created.json"))
        with httpx.Client() as http:
            result = ADAPTER.send(ACCOUNT, DM, http)
        assert result.provider_id == "1897000000000000600"
        assert result.meta["dm_conversation_id"] == "111222333-2244994945"
        assert json.loads(route.calls.last.request.content) == {"text": DM.text}

    @respx.mock
    def test_dm_recipient_from_thread_key_and_media(self) -> None:
        route = respx.post(f"{API}/2/dm_conversations/with/42/messages").respond(
            201, json={"data": {"dm_conversation_id": "42-2244994945", "dm_event_id": "7"}})
        message = OutboundMessage(message_id="m3", visibility=Visibility.PRIVATE, text="see",
                                  thread_key="dm:42",
                                  attachments=(Attachment(type="image", provider_media_id="9"),))
        with httpx.Client() as http:
            ADAPTER.send(ACCOUNT, message, http)
        assert json.loads(route.calls.last.request.content) == {
            "text": "see", "attachments": [{"media_id": "9"}]}

    @respx.mock
    @pytest.mark.parametrize(("mode", "field"), [("field", True), ("text", False)])
    def test_dm_deep_link(self, mode: str, field: bool) -> None:
        route = respx.post(f"{API}/2/tweets").respond(
            201, content=fixture_bytes("v2_tweet_created.json"))
        message = OutboundMessage(message_id="m4", visibility=Visibility.PUBLIC,
                                  text="Please DM us", in_reply_to="1",
                                  options={"dm_deep_link": True})
        with httpx.Client() as http:
            ADAPTER.send(make_account(dm_deep_link_mode=mode), message, http)
        body = json.loads(route.calls.last.request.content)
        link = f"https://twitter.com/messages/compose?recipient_id={OWN_ID}"
        if field:
            assert body["direct_message_deep_link"] == link and body["text"] == "Please DM us"
        else:
            assert body["text"] == f"Please DM us\n{link}"
            assert "direct_message_deep_link" not in body

    @respx.mock
    def test_429_with_retry_after(self) -> None:
        respx.post(f"{API}/2/tweets").respond(
            429, headers={"retry-after": "30"}, json={"title": "Too Many Requests",
                                                     "detail": "Too Many Requests"})
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, REPLY, http)
        assert info.value.retry_after == 30 and info.value.code == "http_429"

    @respx.mock
    def test_429_with_rate_limit_reset(self) -> None:
        reset = int(time.time()) + 120
        respx.post(f"{API}/2/tweets").respond(429, headers={"x-rate-limit-reset": str(reset)})
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, REPLY, http)
        assert info.value.retry_after is not None and 100 < info.value.retry_after <= 120

    @respx.mock
    @pytest.mark.parametrize("status", [500, 502, 503])
    def test_5xx_is_retryable(self, status: int) -> None:
        respx.post(f"{API}/2/dm_conversations/with/111222333/messages").respond(status)
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, DM, http)
        assert info.value.code == f"http_{status}"

    @respx.mock
    def test_4xx_is_permanent_with_the_reason(self) -> None:
        respx.post(f"{API}/2/dm_conversations/with/111222333/messages").respond(
            403, content=fixture_bytes("v2_error_dm_forbidden.json"))
        with httpx.Client() as http, pytest.raises(PermanentSendError) as info:
            ADAPTER.send(ACCOUNT, DM, http)
        assert info.value.code == "http_403"
        assert "not permitted to send a DM" in info.value.message

    @respx.mock
    def test_v11_style_errors_give_the_reason(self) -> None:
        respx.post(f"{API}/2/tweets").respond(
            400, json={"errors": [{"message": "reply target deleted", "code": 385}]})
        with httpx.Client() as http, pytest.raises(PermanentSendError) as info:
            ADAPTER.send(ACCOUNT, REPLY, http)
        assert "reply target deleted" in info.value.message

    @respx.mock
    def test_transport_errors(self) -> None:
        respx.post(f"{API}/2/tweets").mock(side_effect=httpx.ConnectError("down"))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, REPLY, http)
        assert info.value.code == "transport_error"
        respx.post(f"{API}/2/tweets").mock(side_effect=httpx.ReadTimeout("slow"))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as info:
            ADAPTER.send(ACCOUNT, REPLY, http)
        assert info.value.code == "outcome_unknown"

    @respx.mock
    def test_unreadable_success_is_not_retried(self) -> None:
        respx.post(f"{API}/2/tweets").respond(201, content=b"<html>")
        with httpx.Client() as http, pytest.raises(PermanentSendError) as info:
            ADAPTER.send(ACCOUNT, REPLY, http)
        assert info.value.code == "bad_provider_answer"


class TestReconcile:
    @respx.mock
    def test_duplicate_content_is_answered_with_the_earlier_tweet(self) -> None:
        respx.post(f"{API}/2/tweets").respond(403, json={
            "title": "Forbidden", "detail": "You are not allowed to create a Tweet with "
                                            "duplicate content."})
        respx.get(f"{API}/2/users/{OWN_ID}/tweets").respond(200, json={"data": [
            {"id": "5", "text": "other"},
            {"id": "6", "text": REPLY.text,
             "referenced_tweets": [{"type": "replied_to", "id": "1897000000000000001"}]}]})
        with httpx.Client() as http:
            result = ADAPTER.send(ACCOUNT, REPLY, http)
        assert result.provider_id == "6" and result.meta["reconciled"] is True

    @respx.mock
    def test_duplicate_without_a_match_stays_permanent(self) -> None:
        respx.post(f"{API}/2/tweets").respond(403, json={"detail": "duplicate content"})
        respx.get(f"{API}/2/users/{OWN_ID}/tweets").respond(200, json={"meta": {}})
        with httpx.Client() as http, pytest.raises(PermanentSendError) as info:
            ADAPTER.send(ACCOUNT, REPLY, http)
        assert info.value.code == "duplicate_content"

    @respx.mock
    def test_reconcile_pages_back_to_the_attempt(self) -> None:
        """Replies sent since the unknown attempt (an incident's, other workers') push it off
        the first page: the sender's question pages on, from the attempt's time."""
        route = respx.get(f"{API}/2/users/{OWN_ID}/tweets")
        route.side_effect = [
            httpx.Response(200, json={"data": [{"id": str(100 + i), "text": REPLY.text,
                                                "referenced_tweets": [{"type": "replied_to",
                                                                       "id": str(900 + i)}]}
                                               for i in range(100)],
                                      "meta": {"result_count": 100, "next_token": "p2"}}),
            httpx.Response(200, json={"data": [
                {"id": "6", "text": REPLY.text,
                 "referenced_tweets": [{"type": "replied_to", "id": "1897000000000000001"}]}],
                "meta": {"result_count": 1}})]
        since = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
        with httpx.Client() as http:
            result = ADAPTER.reconcile(ACCOUNT, REPLY, http, since=since)
        assert result is not None and result.provider_id == "6"
        first, second = route.calls
        assert first.request.url.params["start_time"] == "2026-12-07T06:00:00Z"
        assert second.request.url.params["pagination_token"] == "p2"

    @respx.mock
    def test_reconcile_stops_when_the_pages_end(self) -> None:
        route = respx.get(f"{API}/2/users/{OWN_ID}/tweets").respond(200, json={
            "data": [{"id": "5", "text": "other"}], "meta": {"result_count": 1}})
        with httpx.Client() as http:
            assert ADAPTER.reconcile(ACCOUNT, REPLY, http) is None
        assert route.call_count == 1

    @respx.mock
    def test_dm_reconcile_finds_our_earlier_dm(self) -> None:
        respx.get(f"{API}/2/dm_conversations/with/111222333/dm_events").respond(200, json={
            "data": [{"id": "8", "text": DM.text, "sender_id": "111222333"},
                     {"id": "9", "text": DM.text, "sender_id": OWN_ID}]})
        with httpx.Client() as http:
            result = ADAPTER.reconcile(ACCOUNT, DM, http)
        assert result is not None and result.provider_id == "9"


class TestActions:
    @respx.mock
    def test_delete_tweet(self) -> None:
        respx.delete(f"{API}/2/tweets/77").respond(200, json={"data": {"deleted": True}})
        with httpx.Client() as http:
            result = ADAPTER.act(ACCOUNT, ChannelAction(name="delete", target="77"), http)
        assert result.provider_id == "77"

    def test_unknown_action(self) -> None:
        with httpx.Client() as http, pytest.raises(PermanentSendError):
            ADAPTER.act(ACCOUNT, ChannelAction(name="hide", target="77"), http)


class TestPolicy:
    def check(self, message: OutboundMessage, **config: object) -> None:
        ADAPTER.check_send(make_account(**config), message, CONTEXT)

    def test_normal_sends_pass(self) -> None:
        self.check(REPLY)
        self.check(DM)  # no messaging window on X

    def test_tweet_over_280_is_refused_naming_the_limit(self) -> None:
        message = OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="a" * 281)
        with pytest.raises(SendPolicyError) as info:
            self.check(message)
        assert info.value.code == "too_long" and info.value.allowed == ["at most 280 characters"]
        self.check(OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="a" * 280))

    def test_weighted_counting(self) -> None:
        assert weighted_length("hello") == 5
        assert weighted_length("日本") == 4
        assert weighted_length("see https://example.com/" + "x" * 200) == 4 + 23
        long_url = "Read " + "https://example.com/" + "p" * 300
        self.check(OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text=long_url))
        cjk = OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="字" * 141)
        with pytest.raises(SendPolicyError):
            self.check(cjk)

    def test_deep_link_in_text_counts(self) -> None:
        message = OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="a" * 260,
                                  options={"dm_deep_link": True})
        self.check(message)  # field mode: the link is not in the text
        with pytest.raises(SendPolicyError):
            self.check(message, dm_deep_link_mode="text")
        with pytest.raises(SendPolicyError) as info:
            self.check(message, user_id="")
        assert info.value.code == "deep_link_unavailable"

    def test_dm_limits(self) -> None:
        self.check(OutboundMessage(message_id="m", visibility=Visibility.PRIVATE,
                                   text="a" * 5000, recipient="1"))
        with pytest.raises(SendPolicyError) as info:
            self.check(OutboundMessage(message_id="m", visibility=Visibility.PRIVATE,
                                       text="a" * 51, recipient="1"), dm_char_limit=50)
        assert info.value.code == "too_long"

    def test_dm_needs_a_recipient(self) -> None:
        with pytest.raises(SendPolicyError) as info:
            self.check(OutboundMessage(message_id="m", visibility=Visibility.PRIVATE, text="x"))
        assert info.value.allowed == ["public"]

    def test_attachments_must_be_uploaded_media(self) -> None:
        not_uploaded = OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text="x",
                                       attachments=(Attachment(type="image", url="https://a"),))
        with pytest.raises(SendPolicyError):
            self.check(not_uploaded)
        two = tuple(Attachment(type="image", provider_media_id=str(i)) for i in range(2))
        with pytest.raises(SendPolicyError) as info:
            self.check(OutboundMessage(message_id="m", visibility=Visibility.PRIVATE,
                                       text="x", recipient="1", attachments=two))
        assert info.value.code == "too_many_attachments"

    def test_empty_message(self) -> None:
        with pytest.raises(SendPolicyError):
            self.check(OutboundMessage(message_id="m", visibility=Visibility.PUBLIC, text=" "))
