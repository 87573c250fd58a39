"""X recent search (listening): v2 answers become Account Activity-shaped events with the
author's reach and `via: search`; the cursor is `since_id`; 429 is retryable with X's reset."""

from __future__ import annotations

import time

import httpx
import pytest
import respx
from x_helpers import ADAPTER, API, fixture_bytes, make_account

from threadline.channels.base import ChannelError, InboundMessage, RetryableSendError

ACCOUNT = make_account()
SEARCH = f"{API}/2/tweets/search/recent"
QUERY = "(@globex OR from:globex) -is:retweet"


@respx.mock
def test_found_tweets_become_events_with_reach() -> None:
    route = respx.get(SEARCH).respond(200, content=fixture_bytes("v2_search_recent_page.json"))
    with httpx.Client() as http:
        events, cursor = ADAPTER.search(ACCOUNT, QUERY, {"since_id": "1897000000000000001"}, http)
    params = route.calls.last.request.url.params
    assert params["query"] == QUERY and params["since_id"] == "1897000000000000001"
    assert "public_metrics" in params["user.fields"] and params["expansions"] == "author_id"
    assert cursor == {"since_id": "1897000000000000950"}
    assert [e.provider_event_id for e in events] == ["tweet:1897000000000000950",
                                                     "tweet:1897000000000000940"]
    items = [i for e in events for i in ADAPTER.normalize(ACCOUNT, e.payload)]
    post, reply = items
    assert isinstance(post, InboundMessage) and isinstance(reply, InboundMessage)
    assert post.meta["followers"] == 5400 and post.meta["via"] == "search"
    assert post.text.endswith("& nobody answers") and post.author.handle == "@dana_r"
    assert "followers" not in reply.meta  # an unusable count is left out
    assert reply.in_reply_to == "1897000000000000930" and reply.author.handle == "@globex"


@respx.mock
def test_429_is_retryable_after_the_reset() -> None:
    respx.get(SEARCH).respond(429, json={"title": "Too Many Requests"},
                              headers={"x-rate-limit-reset": str(int(time.time()) + 60)})
    with httpx.Client() as http, pytest.raises(RetryableSendError) as caught:
        ADAPTER.search(ACCOUNT, QUERY, None, http)
    assert caught.value.retry_after is not None and 30 < caught.value.retry_after <= 61


def test_an_empty_or_oversized_query_is_refused_before_any_request() -> None:
    with httpx.Client() as http:
        for query in ("", "x" * 513):
            with pytest.raises(ChannelError) as caught:
                ADAPTER.search(ACCOUNT, query, None, http)
            assert caught.value.code == "bad_query"
