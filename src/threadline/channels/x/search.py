"""Recent search for listening: `GET /2/tweets/search/recent` with a `since_id` cursor.

The query is built by the caller (threadline.listening from a workspace's listening rules).
Each v2 tweet is rewritten into the v1.1 `tweet_create_events` shape, like the mentions poller,
and stored under the same event id `tweet:<id>`: a tweet found by search and delivered by
webhook (or by the mentions poller) is stored once. The v1.1 shape gets `source: "search"`
(normalised into `meta["via"] = "search"`) and the author's `followers_count` from
`user.fields=public_metrics` (normalised into `meta["followers"]`, the post's reach).

Cursor (JSON): `{"since_id": newest tweet id seen}`, plus `pagination_token` and
`pending_newest_id` while a backlog is paged through (nothing skipped between runs). Errors are
the typed send errors: 429 (with `x-rate-limit-reset`) and 5xx retryable, other 4xx permanent.
"""

from __future__ import annotations

import httpx

from threadline.channels.base import JSON, AccountConfig, ChannelError, ProviderEvent
from threadline.channels.x.outbound import read_answer, x_request
from threadline.channels.x.payloads import XV2TweetPage, XV2User
from threadline.channels.x.poller import TWEET_FIELDS, _max_id, _str, as_v1_tweet

SEARCH_PATH = "/2/tweets/search/recent"
MAX_RESULTS = 100
MAX_PAGES = 5
MAX_QUERY = 512  # X's limit for recent search queries (basic access)


def search_recent(account: AccountConfig, query: str, cursor: JSON | None, http: httpx.Client,
                  *, max_pages: int = MAX_PAGES) -> tuple[list[ProviderEvent], JSON]:
    """Tweets matching `query` since `cursor`; (events, next cursor)."""
    if not query.strip() or len(query) > MAX_QUERY:
        raise ChannelError(f"a recent search query has 1 to {MAX_QUERY} characters",
                           code="bad_query")
    user_id = str(account.get("user_id") or "")
    cursor = cursor or {}
    since_id = _str(cursor.get("since_id"))
    token = _str(cursor.get("pagination_token"))
    newest = _str(cursor.get("pending_newest_id"))
    events: list[ProviderEvent] = []
    for _ in range(max(max_pages, 1)):
        params = {"query": query, "max_results": str(MAX_RESULTS), "tweet.fields": TWEET_FIELDS,
                  "expansions": "author_id", "user.fields": "username,name,public_metrics"}
        if since_id:
            params["since_id"] = since_id
        if token:
            params["next_token"] = token
        page = read_answer(XV2TweetPage, x_request(account, http, "GET", SEARCH_PATH,
                                                   query=params))
        users = {u.id: u for u in page.includes.users}
        for tweet in page.data:
            if not tweet.author_id:
                continue
            v1 = as_v1_tweet(tweet, users)
            v1["source"] = "search"
            followers = _followers(users.get(tweet.author_id))
            if followers is not None:
                v1["user"]["followers_count"] = followers
            events.append(ProviderEvent(f"tweet:{tweet.id}", {
                "for_user_id": user_id, "tweet_create_events": [v1]}))
            newest = _max_id(newest, tweet.id)
        newest = _max_id(newest, page.meta.newest_id)
        token = page.meta.next_token
        if not token:
            break
    if token:
        return events, {"since_id": since_id, "pagination_token": token,
                        "pending_newest_id": newest}
    return events, {"since_id": newest or since_id}


def _followers(user: XV2User | None) -> int | None:
    if user is None or user.public_metrics is None:
        return None
    value = user.public_metrics.followers_count
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return value
    return None
