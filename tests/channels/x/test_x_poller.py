"""X mentions poller: v2 answers become Account Activity-shaped events; the cursor advances."""

from __future__ import annotations

import httpx
import pytest
import respx
from x_helpers import ADAPTER, API, OWN_ID, fixture_bytes, make_account, signed_request

from threadline.channels.base import (
    ChannelError,
    InboundMessage,
    MessageKind,
    PollingAdapter,
    RetryableSendError,
)

ACCOUNT = make_account()
MENTIONS = f"{API}/2/users/{OWN_ID}/mentions"


def test_the_adapter_is_a_polling_adapter() -> None:
    assert isinstance(ADAPTER, PollingAdapter)


@respx.mock
def test_first_poll_turns_mentions_into_events() -> None:
    route = respx.get(MENTIONS).respond(200, content=fixture_bytes("v2_mentions_page.json"))
    with httpx.Client() as http:
        events, cursor = ADAPTER.poll(ACCOUNT, None, http)
    assert cursor == {"since_id": "1897000000000000900"}
    assert [e.provider_event_id for e in events] == ["tweet:1897000000000000900",
                                                     "tweet:1897000000000000890"]
    params = route.calls.last.request.url.params
    assert "since_id" not in params and params["expansions"] == "author_id"
    assert "note_tweet" in params["tweet.fields"]
    items = [item for e in events for item in ADAPTER.normalize(ACCOUNT, e.payload)]
    reply, long_one = items
    assert isinstance(reply, InboundMessage) and isinstance(long_one, InboundMessage)
    assert reply.kind is MessageKind.COMMENT and reply.in_reply_to == "1897000000000000002"
    assert reply.author.handle == "@jane_doe" and reply.text.endswith("arrived & works!")
    assert reply.root_provider_id == "1896999999999999999"
    assert reply.created_at.isoformat() == "2025-03-05T12:00:00+00:00"
    assert long_one.kind is MessageKind.POST and long_one.author.handle == "@sam_roe"
    assert long_one.text.endswith("running out of patience, honestly.")


@respx.mock
def test_polled_and_pushed_tweets_share_the_event_id() -> None:
    respx.get(MENTIONS).respond(200, json={
        "data": [{"id": "1897000000000000001", "text": "hi", "author_id": "111222333"}],
        "includes": {"users": [{"id": "111222333", "username": "jane_doe"}]},
        "meta": {"result_count": 1, "newest_id": "1897000000000000001"}})
    with httpx.Client() as http:
        events, _ = ADAPTER.poll(ACCOUNT, None, http)
    pushed = ADAPTER.split(ACCOUNT, signed_request(fixture_bytes("tweet_create_reply.json")))
    assert events[0].provider_event_id == pushed[0].provider_event_id


@respx.mock
def test_next_poll_uses_since_id_and_keeps_it_when_empty() -> None:
    route = respx.get(MENTIONS).respond(200, json={"meta": {"result_count": 0}})
    with httpx.Client() as http:
        events, cursor = ADAPTER.poll(ACCOUNT, {"since_id": "100"}, http)
    assert events == [] and cursor == {"since_id": "100"}
    assert route.calls.last.request.url.params["since_id"] == "100"


@respx.mock
def test_paging_and_a_backlog_cut_by_the_page_cap() -> None:
    def page(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pagination_token")
        number = int(token or 0)
        tweet_id = str(300 - number)
        return httpx.Response(200, json={
            "data": [{"id": tweet_id, "text": "t", "author_id": "1"}],
            "meta": {"result_count": 1, "newest_id": tweet_id, "next_token": str(number + 1)}})

    respx.get(MENTIONS).mock(side_effect=page)
    account = make_account(poll_max_pages=2)
    with httpx.Client() as http:
        events, cursor = ADAPTER.poll(account, {"since_id": "100"}, http)
        assert [e.provider_event_id for e in events] == ["tweet:300", "tweet:299"]
        assert cursor == {"since_id": "100", "pagination_token": "2",
                          "pending_newest_id": "300"}
        events, cursor = ADAPTER.poll(account, cursor, http)
    assert [e.provider_event_id for e in events] == ["tweet:298", "tweet:297"]
    assert cursor["pending_newest_id"] == "300"


@respx.mock
def test_poll_errors_are_typed() -> None:
    respx.get(MENTIONS).respond(503)
    with httpx.Client() as http, pytest.raises(RetryableSendError):
        ADAPTER.poll(ACCOUNT, None, http)


def test_poll_needs_the_user_id() -> None:
    with httpx.Client() as http, pytest.raises(ChannelError):
        ADAPTER.poll(make_account(user_id=""), None, http)
