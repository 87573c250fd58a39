"""Sending on X: public replies (`POST /2/tweets`), DMs, deletes, policy checks, reconciliation.

None of X's write endpoints takes an idempotency key. Two things keep a re-send after a crash
from posting twice (README "Idempotency"): X itself refuses a tweet whose text duplicates a
recent one of the same account (403), which `send` answers by looking the earlier tweet up; and
`reconcile` finds an earlier send of the same text (tweet or DM) before a re-send.
"""

from __future__ import annotations

import html
import json
import re
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, ValidationError

from threadline.channels.base import (
    JSON,
    AccountConfig,
    ChannelTraits,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderHosts,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    SendResult,
    Visibility,
    check_common_policy,
)
from threadline.channels.x.inbound import load_body, parse
from threadline.channels.x.oauth import authorization
from threadline.channels.x.payloads import (
    XDmAnswer,
    XTweetAnswer,
    XV2DmPage,
    XV2Error,
    XV2TweetPage,
)

M = TypeVar("M", bound=BaseModel)

# docs/providers/x.md#sending: v2 calls go to api.x.com; the legacy v1.1 DM endpoint to
# api.twitter.com.
X_API = ProviderHosts("https://api.x.com", frozenset({"api.x.com", "api.twitter.com"}))
TWEET_LIMIT = 280
DM_LIMIT = 10_000  # (unverified) X's DM text limit; `dm_char_limit` overrides it
TWEET_MEDIA_LIMIT = 4
URL_WEIGHT = 23  # every URL counts as a t.co link
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# twitter-text v3: these code point ranges weigh 1, everything else 2 (emoji, CJK...).
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
DEEP_LINK = "https://twitter.com/messages/compose?recipient_id={user_id}"


def weighted_length(text: str) -> int:
    """Length as X counts it (twitter-text v3 weights; emoji sequences may count a bit more)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    for part_index, part in enumerate(_URL.split(text)):
        if part_index:
            total += URL_WEIGHT
        for char in part:
            code = ord(char)
            total += 1 if any(lo <= code <= hi for lo, hi in _LIGHT_RANGES) else 2
    return total


def dm_participant(message: OutboundMessage) -> str | None:
    if message.recipient:
        return message.recipient
    if message.thread_key and message.thread_key.startswith("dm:") and message.thread_key[3:]:
        return message.thread_key[3:]
    return None


def deep_link(account: AccountConfig, message: OutboundMessage) -> str | None:
    """`options["dm_deep_link"]`: True (link to our own inbox, needs `user_id`) or a URL."""
    option = message.options.get("dm_deep_link")
    if isinstance(option, str) and option:
        return option
    if option is True and account.get("user_id"):
        return DEEP_LINK.format(user_id=account.get("user_id"))
    return None


def _deep_link_in_text(account: AccountConfig) -> bool:
    return str(account.get("dm_deep_link_mode") or "field") == "text"


def check_send(traits: ChannelTraits, account: AccountConfig, message: OutboundMessage,
               context: SendContext) -> None:
    # Surfaces (and a window, if one is ever configured) come from the common rules; length is
    # X's weighted count, which the plain `len` of the common rules does not know.
    check_common_policy(ChannelTraits(public=traits.public, private=traits.private,
                                      window_hours=traits.window_hours), message, context)
    if message.visibility is Visibility.PUBLIC:
        text = message.text
        link = deep_link(account, message)
        if message.options.get("dm_deep_link") and link is None:
            raise SendPolicyError("a DM deep link needs the account's config key user_id",
                                  code="deep_link_unavailable", allowed=["reply without link"])
        if link and _deep_link_in_text(account):
            text = f"{text}\n{link}"
        limit, media_limit = TWEET_LIMIT, TWEET_MEDIA_LIMIT
    else:
        if dm_participant(message) is None:
            raise SendPolicyError("a DM needs the recipient's X user id", code="no_recipient",
                                  allowed=["public"])
        text, limit, media_limit = message.text, int(account.get("dm_char_limit") or DM_LIMIT), 1
        limit = max(limit, 1)
    length = weighted_length(text) if message.visibility is Visibility.PUBLIC else len(text)
    if length > limit:
        raise SendPolicyError(f"message is {length} characters; X allows {limit}",
                              code="too_long", allowed=[f"at most {limit} characters"])
    if not message.text.strip() and not message.attachments:
        raise SendPolicyError("X needs text or an attachment", code="empty_message",
                              allowed=["text"])
    if any(not a.provider_media_id for a in message.attachments):
        raise SendPolicyError("X attachments must be uploaded media (provider_media_id)",
                              code="attachment_not_uploaded", allowed=["text", "link"])
    if len(message.attachments) > media_limit:
        raise SendPolicyError(f"X allows {media_limit} attachment(s) here",
                              code="too_many_attachments",
                              allowed=[f"at most {media_limit} attachment(s)"])


def x_request(account: AccountConfig, http: httpx.Client, method: str, path: str,
             body: JSON | None = None, query: dict[str, str] | None = None) -> httpx.Response:
    url = account.provider_base(X_API) + path
    if query:
        url += "?" + urlencode(query)
    headers = {"authorization": authorization(account, method, url)}
    content: bytes | None = None
    if body is not None:
        content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        headers["content-type"] = "application/json"
    try:
        response = http.request(method, url, content=content, headers=headers,
                                follow_redirects=False)
    except httpx.ConnectError as exc:
        raise RetryableSendError(f"cannot reach X: {type(exc).__name__}",
                                 code="transport_error") from None
    except httpx.TransportError as exc:  # the request may have reached X
        raise RetryableSendError(f"X did not answer: {type(exc).__name__}",
                                 code="outcome_unknown") from None
    raise_for_x_status(response)
    return response


def raise_for_x_status(response: httpx.Response) -> None:
    """Map an X answer to the typed errors, with X's own reason and rate-limit reset."""
    status = response.status_code
    if status < 400:
        return
    reason = _reason(response)
    if status == 429 or status >= 500:
        raise RetryableSendError(f"X answered {status}: {reason}",
                                 retry_after=_retry_after(response), code=f"http_{status}")
    code = f"http_{status}"
    if status == 403 and "duplicate" in reason.lower():
        code = "duplicate_content"
    raise PermanentSendError(f"X answered {status}: {reason}", code=code)


def _reason(response: httpx.Response) -> str:
    try:
        error = XV2Error.model_validate_json(response.content)
    except (ValidationError, ValueError):
        return response.text[:500] or response.reason_phrase
    if error.detail or error.title:
        return (error.detail or error.title or "")[:500]
    messages = [str(e.get("message")) for e in error.errors if e.get("message")]
    return "; ".join(messages)[:500] or response.text[:500]


def _retry_after(response: httpx.Response) -> float | None:
    for header, relative in (("retry-after", True), ("x-rate-limit-reset", False)):
        value = response.headers.get(header)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            continue
        return max(number if relative else number - time.time(), 1.0)
    return None


def read_answer(model: type[M], response: httpx.Response) -> M:
    try:
        return parse(model, load_body(response.content))
    except PayloadError as exc:
        raise PermanentSendError(
            f"X accepted the request but its answer is unreadable ({exc.message}); "
            "not retried to avoid a double post", code="bad_provider_answer") from None


def send(account: AccountConfig, message: OutboundMessage, http: httpx.Client) -> SendResult:
    media_ids = [a.provider_media_id for a in message.attachments if a.provider_media_id]
    if message.visibility is Visibility.PUBLIC:
        body: JSON = {"text": message.text}
        if message.in_reply_to:
            body["reply"] = {"in_reply_to_tweet_id": message.in_reply_to}
        link = deep_link(account, message)
        if link and _deep_link_in_text(account):
            body["text"] = f"{message.text}\n{link}"
        elif link:
            body["direct_message_deep_link"] = link
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        try:
            response = x_request(account, http, "POST", "/2/tweets", body)
        except PermanentSendError as exc:
            if exc.code == "duplicate_content":
                found = reconcile(account, message, http)
                if found is not None:
                    return found
            raise
        tweet = read_answer(XTweetAnswer, response).data
        return SendResult(provider_id=tweet.id, meta={"kind": "tweet"})
    participant = dm_participant(message)
    if participant is None:
        raise PermanentSendError("a DM needs the recipient's X user id", code="no_recipient")
    dm_body: JSON = {"text": message.text} if message.text else {}
    if media_ids:
        dm_body["attachments"] = [{"media_id": media_ids[0]}]
    response = x_request(account, http, "POST",
                        f"/2/dm_conversations/with/{quote(participant, safe='')}/messages",
                        dm_body)
    dm = read_answer(XDmAnswer, response).data
    meta: JSON = {"kind": "dm"}
    if dm.dm_conversation_id:
        meta["dm_conversation_id"] = dm.dm_conversation_id
    return SendResult(provider_id=dm.dm_event_id, meta=meta)


RECONCILE_PAGES = 10  # of 100 tweets: a burst answered post by post sends many meanwhile


def reconcile(account: AccountConfig, message: OutboundMessage, http: httpx.Client, *,
              since: datetime | None = None) -> SendResult | None:
    """Find an earlier send of `message` (same text and target) among the account's recent ones.

    Tweets: `GET /2/users/:user_id/tweets` (needs config `user_id`), newest first, page after
    page from `since` (the first attempt, less a clock slack) on: other replies may have been
    sent since the attempt whose outcome is unknown (an incident's replies, several workers).
    DMs: `GET /2/dm_conversations/with/:participant_id/dm_events`. None when nothing matches.
    """
    text = unicodedata.normalize("NFC", message.text).strip()
    if message.visibility is Visibility.PUBLIC:
        user_id = account.get("user_id")
        if not user_id:
            return None
        query = {"max_results": "100", "tweet.fields": "referenced_tweets,note_tweet"}
        if since is not None:
            query["start_time"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for _ in range(RECONCILE_PAGES):
            response = x_request(account, http, "GET",
                                 f"/2/users/{quote(str(user_id), safe='')}/tweets", query=query)
            page = read_answer(XV2TweetPage, response)
            for tweet in page.data:
                replied = next((r.id for r in tweet.referenced_tweets
                                if r.type == "replied_to"), None)
                full = tweet.note_tweet.text if tweet.note_tweet else tweet.text
                if replied == message.in_reply_to and _same(full, text):
                    return SendResult(provider_id=tweet.id, meta={"kind": "tweet",
                                                                  "reconciled": True})
            if not page.meta.next_token:
                break
            query = {**query, "pagination_token": page.meta.next_token}
        return None
    participant = dm_participant(message)
    if participant is None:
        return None
    response = x_request(account, http, "GET", f"/2/dm_conversations/with/"
                        f"{quote(participant, safe='')}/dm_events",
                        query={"max_results": "20",
                               "dm_event.fields": "id,text,sender_id,event_type"})
    for event in read_answer(XV2DmPage, response).data:
        if event.sender_id != participant and _same(event.text or "", text):
            return SendResult(provider_id=event.id, meta={"kind": "dm", "reconciled": True})
    return None


def _same(sent: str, text: str) -> bool:
    sent = unicodedata.normalize("NFC", html.unescape(sent)).strip()
    return sent == text or sent.startswith(text + "\n")  # deep link appended in text mode


def delete_tweet(account: AccountConfig, tweet_id: str, http: httpx.Client) -> SendResult:
    """`DELETE /2/tweets/:id`. A 404 (the tweet is already gone, as after a crash between
    the call and the commit) counts as deleted: a repeat is harmless."""
    try:
        response = x_request(account, http, "DELETE", f"/2/tweets/{quote(tweet_id, safe='')}")
    except PermanentSendError as exc:
        if exc.code == "http_404":
            return SendResult(provider_id=tweet_id, meta={"deleted": True, "already_gone": True})
        raise
    try:
        answer: Any = load_body(response.content or b"{}").get("data")
    except PayloadError:
        answer = None
    if not (isinstance(answer, dict) and answer.get("deleted") is True):
        raise PermanentSendError("X did not confirm the delete", code="not_deleted")
    return SendResult(provider_id=tweet_id, meta={"deleted": True})
