"""The Discourse adapter against its fixtures: signatures, splitting with stable dedupe keys,
normalising every event, the send and its error mapping (respx: this adapter only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from discourse_helpers import (
    ACCOUNT,
    CONFIG,
    FORUM,
    fixture,
    fixture_names,
    fixture_request,
    signed,
    webhook_fixtures,
)

from threadline.channels.base import (
    AccountConfig,
    ChannelAction,
    ChannelError,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    MessageKind,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    SignatureError,
    UrlPolicy,
    Visibility,
)
from threadline.channels.discourse.adapter import DiscourseAdapter, retry_after, sign
from threadline.channels.registry import get_adapter

ADAPTER = DiscourseAdapter()
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def items(name: str) -> list[Any]:
    events = ADAPTER.split(ACCOUNT, fixture_request(name))
    return [item for e in events for item in ADAPTER.normalize(ACCOUNT, json.loads(
        json.dumps(e.payload)))]


class TestRegistry:
    def test_registered(self) -> None:
        assert isinstance(get_adapter("discourse"), DiscourseAdapter)

    def test_every_fixture_is_tested(self) -> None:
        tested = {"ping.json", "topic_created.json", "topic_edited.json",
                  "post_created_first.json", "post_created_reply.json",
                  "post_created_staff.json", "post_created_whisper.json",
                  "post_created_private_message.json", "post_edited.json",
                  "post_destroyed.json", "accepted_solution.json", "unaccepted_solution.json",
                  "user_created.json", "create_post_ok.json", "create_post_429.json",
                  "create_post_403.json", "create_post_422.json", "signature_vectors.json"}
        assert set(fixture_names()) == tested


class TestSignature:
    @pytest.mark.parametrize("vector", fixture("signature_vectors.json")["vectors"])
    def test_published_vectors(self, vector: dict[str, str]) -> None:
        assert sign(vector["secret"], vector["body"].encode()) == vector["signature"]
        account = AccountConfig(id="a", kind="discourse", name="f",
                                config={**CONFIG, "webhook_secret": vector["secret"]})
        request = signed(vector["body"].encode(), {"content-type": "application/json"},
                         secret=None)
        headers = {**request.headers, "x-discourse-event-signature": vector["signature"]}
        ADAPTER.verify(account, type(request)("POST", request.url, headers, {}, request.body))

    def test_wrong_secret_is_refused(self) -> None:
        request = signed(b'{"ping":"OK"}', {"content-type": "application/json"},
                         secret="another")
        with pytest.raises(SignatureError):
            ADAPTER.verify(ACCOUNT, request)

    def test_missing_signature_is_refused(self) -> None:
        request = signed(b'{"ping":"OK"}', {"content-type": "application/json"}, secret=None)
        with pytest.raises(SignatureError) as caught:
            ADAPTER.verify(ACCOUNT, request)
        assert caught.value.code == "missing_signature"

    def test_a_changed_body_is_refused(self) -> None:
        request = fixture_request("post_created_first.json")
        tampered = type(request)("POST", request.url, request.headers, {},
                                 request.body.replace(b"never", b"always"))
        with pytest.raises(SignatureError):
            ADAPTER.verify(ACCOUNT, tampered)

    def test_signature_of_another_scheme_is_refused(self) -> None:
        request = fixture_request("ping.json")
        given = request.headers["x-discourse-event-signature"].replace("sha256=", "sha1=")
        with pytest.raises(SignatureError):
            ADAPTER.verify(ACCOUNT, type(request)("POST", request.url, {
                **request.headers, "x-discourse-event-signature": given}, {}, request.body))


class TestSplit:
    def test_ping_is_answered_and_not_stored(self) -> None:
        assert ADAPTER.split(ACCOUNT, fixture_request("ping.json")) == []
        ack = ADAPTER.ack(ACCOUNT, fixture_request("ping.json"))
        assert ack.status == 200

    @pytest.mark.parametrize("name", ["post_created_whisper.json",
                                      "post_created_private_message.json",
                                      "user_created.json"])
    def test_not_community_posts_are_not_stored(self, name: str) -> None:
        assert ADAPTER.split(ACCOUNT, fixture_request(name)) == []

    def test_dedupe_key_is_the_post_and_version_not_the_delivery(self) -> None:
        first = fixture_request("post_created_first.json")
        retried = dict(first.headers, **{"x-discourse-event-id": "99999"})
        again = type(first)("POST", first.url, retried, {}, first.body)
        [a] = ADAPTER.split(ACCOUNT, first)
        [b] = ADAPTER.split(ACCOUNT, again)
        assert a.provider_event_id == b.provider_event_id == "post_created:post:10234:v1"
        [edit] = ADAPTER.split(ACCOUNT, fixture_request("post_edited.json"))
        assert edit.provider_event_id == "post_edited:post:10234:v2"

    def test_topic_key(self) -> None:
        [event] = ADAPTER.split(ACCOUNT, fixture_request("topic_created.json"))
        assert event.provider_event_id == "topic_created:topic:4821"

    def test_json_is_required(self) -> None:
        data = fixture("post_created_first.json")
        headers = {**data["headers"], "Content-Type": "application/x-www-form-urlencoded"}
        with pytest.raises(PayloadError) as caught:
            ADAPTER.split(ACCOUNT, signed(b"payload=%7B%7D", headers))
        assert caught.value.code == "json_required"

    @pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"post"', b"{}",
                                      b'{"post": "text"}', b'{"post": {"id": "12"}}',
                                      b'{"post": {"id": 1, "topic_id": true, "post_number": 1,'
                                      b' "username": "a", "created_at": "2026-01-01T00:00:00Z"}}',
                                      b'{"topic": []}'])
    def test_hostile_bodies_are_payload_errors(self, body: bytes) -> None:
        headers = fixture("post_created_first.json")["headers"]
        with pytest.raises(PayloadError):
            ADAPTER.split(ACCOUNT, signed(body, headers))

    def test_missing_event_name(self) -> None:
        headers = {k: v for k, v in fixture("post_created_first.json")["headers"].items()
                   if k != "X-Discourse-Event"}
        with pytest.raises(PayloadError):
            ADAPTER.split(ACCOUNT, signed(json.dumps(
                fixture("post_created_first.json")["body"]).encode(), headers))

    def test_accepted_events_are_configurable(self) -> None:
        account = AccountConfig(id="a", kind="discourse", name="f",
                                config={**CONFIG, "events": ["post_created"]})
        assert ADAPTER.split(account, fixture_request("post_edited.json")) == []
        assert len(ADAPTER.split(account, fixture_request("post_created_first.json"))) == 1

    def test_category_allow_list(self) -> None:
        account = AccountConfig(id="a", kind="discourse", name="f",
                                config={**CONFIG, "category_ids": [9]})
        assert ADAPTER.split(account, fixture_request("post_created_first.json")) == []


class TestNormalize:
    def test_first_post_starts_the_topic(self) -> None:
        [item] = items("post_created_first.json")
        assert isinstance(item, InboundMessage)
        assert item.provider_id == "4821:1" and item.root_provider_id == "4821:1"
        assert item.in_reply_to is None and item.kind is MessageKind.POST
        assert item.visibility is Visibility.PUBLIC
        assert item.text == "My order 1182 never arrived. Can anyone help?"
        assert item.subject == "My order never arrived"
        assert item.author.identity_kind == "discourse"
        assert item.author.provider_user_id == "3310" and item.author.handle == "alice"
        assert not item.author.is_self
        assert item.created_at == datetime(2026, 1, 5, 9, 12, 44, 120000, tzinfo=UTC)
        assert item.meta["discourse"]["post_id"] == 10234

    def test_reply_is_threaded_to_the_post_it_answers(self) -> None:
        [item] = items("post_created_reply.json")
        assert isinstance(item, InboundMessage)
        assert (item.provider_id, item.in_reply_to) == ("4821:2", "4821:1")
        assert item.kind is MessageKind.COMMENT and item.subject is None

    def test_staff_post_is_the_brands(self) -> None:
        [item] = items("post_created_staff.json")
        assert isinstance(item, InboundMessage) and item.author.is_self
        assert item.in_reply_to == "4821:1"  # no reply_to_post_number: the topic

    def test_staff_as_brand_is_configurable(self) -> None:
        account = AccountConfig(id="a", kind="discourse", name="f",
                                config={**CONFIG, "staff_are_brand": False,
                                        "api_username": "bot"})
        [event] = ADAPTER.split(account, fixture_request("post_created_staff.json"))
        [item] = ADAPTER.normalize(account, event.payload)
        assert isinstance(item, InboundMessage) and not item.author.is_self

    def test_edit_and_delete(self) -> None:
        [edit] = items("post_edited.json")
        assert isinstance(edit, MessageEdit) and edit.provider_id == "4821:1"
        assert "support is not answering" in edit.text
        [gone] = items("post_destroyed.json")
        assert isinstance(gone, MessageDelete) and gone.provider_id == "4821:2"

    def test_topic_events_are_metadata(self) -> None:
        assert items("topic_created.json") == [] and items("topic_edited.json") == []

    def test_solution_events(self) -> None:
        [accepted] = items("accepted_solution.json")
        assert isinstance(accepted, InboundMessage)
        assert accepted.meta["discourse_event"] == "accepted_solution"
        assert (accepted.meta["topic_id"], accepted.meta["post_number"]) == (4821, 2)
        assert not accepted.author.is_self
        [withdrawn] = items("unaccepted_solution.json")
        assert isinstance(withdrawn, InboundMessage)
        assert withdrawn.meta["discourse_event"] == "unaccepted_solution"
        assert withdrawn.provider_id != accepted.provider_id

    def test_email_given_by_the_forum_is_a_coordinate(self) -> None:
        data = fixture("post_created_first.json")
        body = {"post": {**data["body"]["post"], "user_email": "Alice@Example.com"}}
        [event] = ADAPTER.split(ACCOUNT, signed(json.dumps(body).encode(), data["headers"]))
        [item] = ADAPTER.normalize(ACCOUNT, event.payload)
        assert isinstance(item, InboundMessage)
        assert [(c.kind, c.address) for c in item.author.coordinates] == [
            ("email", "Alice@Example.com")]

    def test_stored_payload_without_post(self) -> None:
        with pytest.raises(PayloadError):
            ADAPTER.normalize(ACCOUNT, {"event": "post_created"})
        with pytest.raises(PayloadError):
            ADAPTER.normalize(ACCOUNT, {"post": {}})


def outbound(text: str = "Hi Alice, your parcel was re-sent today.", **kw: Any) -> OutboundMessage:
    return OutboundMessage(message_id="m-1", visibility=Visibility.PUBLIC, text=text,
                           in_reply_to=kw.pop("in_reply_to", "4821:1"), **kw)


class TestPolicy:
    def test_public_reply_allowed(self) -> None:
        ADAPTER.check_send(ACCOUNT, outbound(), SendContext(now=NOW))

    def test_no_private_surface(self) -> None:
        with pytest.raises(SendPolicyError) as caught:
            ADAPTER.check_send(ACCOUNT, OutboundMessage(
                message_id="m", visibility=Visibility.PRIVATE, text="hello there friend",
                in_reply_to="4821:1"), SendContext(now=NOW))
        assert caught.value.allowed == ["public"]

    def test_no_topic(self) -> None:
        with pytest.raises(SendPolicyError) as caught:
            ADAPTER.check_send(ACCOUNT, outbound(in_reply_to=None), SendContext(now=NOW))
        assert caught.value.code == "no_topic"

    def test_empty_and_too_long(self) -> None:
        with pytest.raises(SendPolicyError):
            ADAPTER.check_send(ACCOUNT, outbound(text="  "), SendContext(now=NOW))
        with pytest.raises(SendPolicyError):
            ADAPTER.check_send(ACCOUNT, outbound(text="x" * 32_001), SendContext(now=NOW))


def _reply(name: str) -> httpx.Response:
    data = fixture(name)
    return httpx.Response(data["status"], json=data["body"], headers=data.get("headers"))


class TestSend:
    @respx.mock
    def test_reply_as_staff(self) -> None:
        route = respx.post(f"{FORUM}/posts.json").mock(return_value=_reply("create_post_ok.json"))
        with httpx.Client() as http:
            result = ADAPTER.send(ACCOUNT, outbound(in_reply_to="4821:2"), http)
        assert result.provider_id == "4821:5" and result.meta == {"post_id": 10251}
        request = route.calls.last.request
        assert request.headers["api-key"] == "k" * 64
        assert request.headers["api-username"] == "acme_support"
        assert json.loads(request.content) == {
            "topic_id": 4821, "raw": "Hi Alice, your parcel was re-sent today.",
            "reply_to_post_number": 2}

    @respx.mock
    def test_reply_to_the_topic_names_no_post(self) -> None:
        route = respx.post(f"{FORUM}/posts.json").mock(return_value=_reply("create_post_ok.json"))
        with httpx.Client() as http:
            ADAPTER.send(ACCOUNT, outbound(), http)
        assert json.loads(route.calls.last.request.content) == {
            "topic_id": 4821, "raw": "Hi Alice, your parcel was re-sent today."}

    @respx.mock
    def test_429_is_retried_after_retry_after(self) -> None:
        respx.post(f"{FORUM}/posts.json").mock(return_value=_reply("create_post_429.json"))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as caught:
            ADAPTER.send(ACCOUNT, outbound(), http)
        assert caught.value.retry_after == 10.0
        assert caught.value.code == "discourse_rate_limited"
        assert "admin_api_key_rate_limit" in caught.value.message

    @respx.mock
    def test_429_without_header_uses_wait_seconds(self) -> None:
        body = fixture("create_post_429.json")["body"]
        respx.post(f"{FORUM}/posts.json").mock(return_value=httpx.Response(429, json=body))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as caught:
            ADAPTER.send(ACCOUNT, outbound(), http)
        assert caught.value.retry_after == 10.0

    @pytest.mark.parametrize(("name", "code"), [("create_post_403.json",
                                                 "discourse_invalid_access"),
                                                ("create_post_422.json",
                                                 "discourse_record_invalid")])
    @respx.mock
    def test_permanent_errors(self, name: str, code: str) -> None:
        respx.post(f"{FORUM}/posts.json").mock(return_value=_reply(name))
        with httpx.Client() as http, pytest.raises(PermanentSendError) as caught:
            ADAPTER.send(ACCOUNT, outbound(), http)
        assert caught.value.code == code
        assert "k" * 64 not in caught.value.message

    @respx.mock
    def test_5xx_and_transport_errors_are_retryable(self) -> None:
        respx.post(f"{FORUM}/posts.json").mock(return_value=httpx.Response(502, text="bad"))
        with httpx.Client() as http, pytest.raises(RetryableSendError):
            ADAPTER.send(ACCOUNT, outbound(), http)
        respx.post(f"{FORUM}/posts.json").mock(side_effect=httpx.ConnectError("no"))
        with httpx.Client() as http, pytest.raises(RetryableSendError) as caught:
            ADAPTER.send(ACCOUNT, outbound(), http)
        assert caught.value.code == "transport_unreached"

    def test_credentials_never_go_to_an_unsafe_forum(self) -> None:
        account = AccountConfig(id="a", kind="discourse", name="f",
                                config={**CONFIG, "api_base_url": "http://127.0.0.1:9"},
                                urls=UrlPolicy())
        with httpx.Client() as http, pytest.raises(PermanentSendError) as caught:
            ADAPTER.send(account, outbound(), http)
        assert caught.value.code == "unsafe_url"
        with pytest.raises(ChannelError):
            ADAPTER.check_config({"api_base_url": "http://10.0.0.1"}, UrlPolicy())

    @respx.mock
    def test_accept_solution(self) -> None:
        route = respx.post(f"{FORUM}/solution/accept.json").mock(
            return_value=httpx.Response(200, json={"success": "OK"}))
        with httpx.Client() as http:
            ADAPTER.act(ACCOUNT, ChannelAction("accept_solution", target="4821:2",
                                               params={"post_id": 10240}), http)
        assert json.loads(route.calls.last.request.content) == {"id": 10240}

    @respx.mock
    def test_accept_our_own_post_finds_its_id(self) -> None:
        respx.get(f"{FORUM}/posts/by_number/4821/5.json").mock(
            return_value=httpx.Response(200, json={"id": 10251}))
        route = respx.post(f"{FORUM}/solution/accept.json").mock(
            return_value=httpx.Response(200, json={"success": "OK"}))
        with httpx.Client() as http:
            ADAPTER.act(ACCOUNT, ChannelAction("accept_solution", target="4821:5"), http)
        assert json.loads(route.calls.last.request.content) == {"id": 10251}

    def test_other_actions_are_refused(self) -> None:
        with httpx.Client() as http, pytest.raises(PermanentSendError):
            ADAPTER.act(ACCOUNT, ChannelAction("hide", target="4821:2"), http)


class TestRetryAfter:
    def test_forms(self) -> None:
        assert retry_after("10") == 10.0
        assert retry_after(None) is None and retry_after("soon") is None
        assert retry_after("-5") == 0.0 and retry_after("1e12") == 24 * 3600.0
        assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_every_webhook_fixture_splits_and_normalises() -> None:
    for name in webhook_fixtures():
        for event in ADAPTER.split(ACCOUNT, fixture_request(name)):
            ADAPTER.normalize(ACCOUNT, json.loads(json.dumps(event.payload)))
