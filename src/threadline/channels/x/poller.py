"""Mentions poller for accounts without Account Activity access.

`GET /2/users/:user_id/mentions` with a `since_id` cursor. Each v2 tweet is rewritten into the
v1.1 shape of an Account Activity `tweet_create_events` delivery and stored under the same event
id (`tweet:<id>`), so a tweet seen both by webhook and by polling is stored once, and
`normalize` reads both alike.

Cursor (JSON): `{"since_id": newest tweet id seen}`; while a backlog is being paged through it
also holds `pagination_token` and `pending_newest_id` so no page is skipped between polls.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import httpx

from threadline.channels.base import JSON, AccountConfig, ChannelError, ProviderEvent
from threadline.channels.x.outbound import read_answer, x_request
from threadline.channels.x.payloads import XV2Tweet, XV2TweetPage, XV2User

MAX_RESULTS = 100
MAX_PAGES = 5
TWEET_FIELDS = ("created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,"
                "note_tweet,lang")


def poll(account: AccountConfig, cursor: JSON | None,
         http: httpx.Client) -> tuple[list[ProviderEvent], JSON]:
    user_id = str(account.get("user_id") or "")
    if not user_id:
        raise ChannelError("polling X mentions needs the account's config key user_id",
                           code="account_misconfigured")
    cursor = cursor or {}
    since_id = _str(cursor.get("since_id"))
    token = _str(cursor.get("pagination_token"))
    newest = _str(cursor.get("pending_newest_id"))
    max_pages = max(int(account.get("poll_max_pages") or MAX_PAGES), 1)
    events: list[ProviderEvent] = []
    for _ in range(max_pages):
        query = {"max_results": str(MAX_RESULTS), "tweet.fields": TWEET_FIELDS,
                 "expansions": "author_id", "user.fields": "username,name"}
        if since_id:
            query["since_id"] = since_id
        if token:
            query["pagination_token"] = token
        response = x_request(account, http, "GET",
                            f"/2/users/{quote(user_id, safe='')}/mentions", query=query)
        page = read_answer(XV2TweetPage, response)
        users = {u.id: u for u in page.includes.users}
        for tweet in page.data:
            if not tweet.author_id:
                continue  # never happens with expansions=author_id; nothing to attribute
            payload: JSON = {"for_user_id": user_id,
                             "tweet_create_events": [as_v1_tweet(tweet, users)]}
            events.append(ProviderEvent(f"tweet:{tweet.id}", payload))
            newest = _max_id(newest, tweet.id)
        newest = _max_id(newest, page.meta.newest_id)
        token = page.meta.next_token
        if not token:
            break
    if token:  # backlog left: keep the lower bound, resume the paging next time
        return events, {"since_id": since_id, "pagination_token": token,
                        "pending_newest_id": newest}
    return events, {"since_id": newest or since_id}


def as_v1_tweet(tweet: XV2Tweet, users: dict[str, XV2User]) -> JSON:
    """A v2 tweet in the v1.1 shape that Account Activity deliveries use."""
    author = users.get(tweet.author_id or "")
    user: JSON = {"id_str": tweet.author_id or ""}
    if author is not None:
        user.update({"screen_name": author.username, "name": author.name})
    v1: JSON = {"id_str": tweet.id, "text": tweet.text, "user": user, "source": "poll"}
    created = _v2_time(tweet.created_at)
    if created is not None:
        v1["timestamp_ms"] = str(int(created.timestamp() * 1000))
    if tweet.note_tweet is not None:  # long tweets: the whole text is in note_tweet
        v1["extended_tweet"] = {"full_text": tweet.note_tweet.text}
    for ref in tweet.referenced_tweets:
        if ref.type == "replied_to":
            v1["in_reply_to_status_id_str"] = ref.id
        elif ref.type == "quoted":
            v1["is_quote_status"] = True
            v1["quoted_status_id_str"] = ref.id
        elif ref.type == "retweeted":
            v1["retweeted_status"] = {"id_str": ref.id}
    for key, value in (("in_reply_to_user_id_str", tweet.in_reply_to_user_id),
                       ("conversation_id", tweet.conversation_id), ("lang", tweet.lang)):
        if value:
            v1[key] = value
    return v1


def _v2_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _str(value: object) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def _max_id(a: str | None, b: str | None) -> str | None:
    if not b or not b.isdigit():
        return a
    if not a or not a.isdigit():
        return b
    return b if int(b) > int(a) else a
