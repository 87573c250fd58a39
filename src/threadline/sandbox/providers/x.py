"""Sandbox side of X: the v2 endpoints the X adapter calls, and signed Account Activity webhooks.

Endpoints (under PREFIX, so an account's `api_base_url` is `<sandbox>/x`):
    POST   /2/tweets                                         -> 201 {"data": {"id", "text", ...}}
    DELETE /2/tweets/{id}                                    -> {"data": {"deleted": true}};
                                                                404 once deleted (a repeat)
    POST   /2/dm_conversations/with/{participant_id}/messages -> 201 {"data": {dm ids}}
    GET    /2/users/{id}/mentions                            -> mentions told by `add_mention`
    GET    /2/users/{id}/tweets                              -> tweets posted through the sandbox
    GET    /2/tweets/search/recent                           -> public tweets matching `query`,
                                                                told by `add_public_post`
    GET    /2/dm_conversations/with/{participant_id}/dm_events -> DMs sent through the sandbox
    GET    /1.1/ton/data/dm/{event_id}/{media_id}/{name}     -> a DM's media (`put_dm_media`);
                                                                OAuth 1.0a only, as ton.twitter.com
    GET    /_sandbox/deleted                                 -> {"deleted": [tweet ids, in order]}

Requests without an `Authorization` header get X's 401 problem body. Webhook builders sign with
`config["consumer_secret"]` and set `for_user_id = config["user_id"]`.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from threadline.channels.x.adapter import SIGNATURE_HEADER, sign
from threadline.sandbox.core import SignedWebhook, recorder_of

PREFIX = "/x"
router = APIRouter()

ID_BASE = 1_900_000_000_000_000_000  # snowflake-sized ids, above the fixtures' ids
_lock = threading.Lock()
_mentions: list[dict[str, Any]] = []  # v2 tweets, as GET /2/users/:id/mentions returns them
_users: dict[str, dict[str, Any]] = {}
_posted: list[dict[str, Any]] = []  # tweets created through POST /2/tweets
_dms: list[dict[str, Any]] = []  # DM events created through the DM endpoint
_dm_media: dict[str, dict[str, Any]] = {}  # media id -> {"data", "mime_type"}: customers' DM files
_deleted: list[str] = []  # tweet ids deleted through DELETE /2/tweets/:id, in order
_public: list[dict[str, Any]] = []  # v2 tweets anyone can find with recent search


def add_mention(mentioned_user_id: str, tweet_id: str, user_id: str, screen_name: str,
                text: str, in_reply_to: str | None = None,
                created_at: datetime | None = None, name: str | None = None) -> dict[str, Any]:
    """Tell the sandbox about a tweet mentioning `mentioned_user_id` (served by the poller)."""
    tweet: dict[str, Any] = {
        "id": tweet_id, "text": text, "author_id": user_id,
        "created_at": _iso(created_at), "edit_history_tweet_ids": [tweet_id],
        "_mentions": mentioned_user_id,
    }
    if in_reply_to:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
        tweet["in_reply_to_user_id"] = mentioned_user_id
    with _lock:
        _mentions.append(tweet)
        _users[user_id] = {"id": user_id, "username": screen_name, "name": name or screen_name}
    return tweet


def add_public_post(tweet_id: str, user_id: str, screen_name: str, text: str, *,
                    followers: int | None = None, in_reply_to: str | None = None,
                    in_reply_to_user_id: str | None = None, created_at: datetime | None = None,
                    name: str | None = None) -> dict[str, Any]:
    """Tell the sandbox about a public tweet (served by recent search when its query matches);
    `followers` is the author's follower count (`user.fields=public_metrics`)."""
    tweet: dict[str, Any] = {
        "id": tweet_id, "text": text, "author_id": user_id,
        "created_at": _iso(created_at), "edit_history_tweet_ids": [tweet_id],
    }
    if in_reply_to:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
        if in_reply_to_user_id:
            tweet["in_reply_to_user_id"] = in_reply_to_user_id
    user: dict[str, Any] = {"id": user_id, "username": screen_name, "name": name or screen_name}
    if followers is not None:
        user["public_metrics"] = {"followers_count": followers, "following_count": 0,
                                  "tweet_count": 1, "listed_count": 0}
    with _lock:
        _public.append(tweet)
        _users[user_id] = user
    return tweet


def reset() -> None:
    """Forget every mention, posted tweet, DM and delete (tests call it between cases)."""
    with _lock:
        _deleted.clear()
        _mentions.clear()
        _users.clear()
        _posted.clear()
        _dms.clear()
        _dm_media.clear()
        _public.clear()


def _iso(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _new_id(request: Request) -> str:
    return str(ID_BASE + recorder_of(request).next_id())


def _unauthorized(request: Request) -> JSONResponse | None:
    if request.headers.get("authorization", "").startswith(("OAuth ", "Bearer ")):
        return None
    return JSONResponse({"title": "Unauthorized", "type": "about:blank", "status": 401,
                         "detail": "Unauthorized"}, status_code=401)


def _invalid(detail: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": detail}], "title": "Invalid Request",
                         "detail": "One or more parameters to your request was invalid.",
                         "type": "https://api.twitter.com/2/problems/invalid-request"},
                        status_code=400)


def _sender_id(request: Request) -> str:
    """X access tokens start with the user id (`<user_id>-<random>`); else "0"."""
    header = request.headers.get("authorization", "")
    marker = 'oauth_token="'
    if marker in header:
        token = header.split(marker, 1)[1].split('"', 1)[0]
        prefix = token.split("-", 1)[0]
        if prefix.isdigit():
            return prefix
    return "0"


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@router.post("/2/tweets")
async def create_tweet(request: Request) -> JSONResponse:
    if (denied := _unauthorized(request)) is not None:
        return denied
    body = await _json(request)
    if body is None or not isinstance(body.get("text"), str):
        return _invalid("$.text is required")
    tweet_id = _new_id(request)
    tweet: dict[str, Any] = {"id": tweet_id, "text": body["text"],
                             "author_id": _sender_id(request), "created_at": _iso(None),
                             "edit_history_tweet_ids": [tweet_id]}
    reply = body.get("reply")
    if isinstance(reply, dict) and reply.get("in_reply_to_tweet_id"):
        tweet["referenced_tweets"] = [{"type": "replied_to",
                                       "id": str(reply["in_reply_to_tweet_id"])}]
    with _lock:
        # X refuses an account's duplicate tweet; here: same text to the same reply target.
        duplicate = any(t["text"] == tweet["text"] and t["author_id"] == tweet["author_id"]
                        and t.get("referenced_tweets") == tweet.get("referenced_tweets")
                        for t in _posted)
        if not duplicate:
            _posted.append(tweet)
    if duplicate:
        return JSONResponse({"title": "Forbidden", "type": "about:blank", "status": 403,
                             "detail": "You are not allowed to create a Tweet with duplicate "
                                       "content."}, status_code=403)
    return JSONResponse({"data": {"id": tweet_id, "text": tweet["text"],
                                  "edit_history_tweet_ids": [tweet_id]}}, status_code=201)


@router.delete("/2/tweets/{tweet_id}")
async def delete_tweet(tweet_id: str, request: Request) -> JSONResponse:
    if (denied := _unauthorized(request)) is not None:
        return denied
    with _lock:
        gone = tweet_id in _deleted
        if not gone:
            _deleted.append(tweet_id)
            _posted[:] = [t for t in _posted if t["id"] != tweet_id]
            _mentions[:] = [t for t in _mentions if t["id"] != tweet_id]
    if gone:  # a deleted tweet is gone for every later call
        return JSONResponse({"title": "Not Found Error", "type": "about:blank", "status": 404,
                             "detail": f"Could not find tweet with id: [{tweet_id}]."},
                            status_code=404)
    return JSONResponse({"data": {"deleted": True}})


@router.get("/_sandbox/deleted")
async def deleted() -> JSONResponse:
    """The tweets deleted so far (each id once: a repeat got a 404)."""
    with _lock:
        return JSONResponse({"deleted": list(_deleted)})


@router.post("/2/dm_conversations/with/{participant_id}/messages")
async def create_dm(participant_id: str, request: Request) -> JSONResponse:
    if (denied := _unauthorized(request)) is not None:
        return denied
    body = await _json(request)
    if body is None or not (isinstance(body.get("text"), str) or body.get("attachments")):
        return _invalid("$.text or $.attachments is required")
    sender = _sender_id(request)
    event_id = _new_id(request)
    low, high = sorted((sender, participant_id), key=lambda v: (len(v), v))
    conversation_id = f"{low}-{high}"
    with _lock:
        _dms.append({"id": event_id, "event_type": "MessageCreate",
                     "text": body.get("text") or "", "sender_id": sender,
                     "participant_id": participant_id, "dm_conversation_id": conversation_id,
                     "created_at": _iso(None)})
    return JSONResponse({"data": {"dm_conversation_id": conversation_id,
                                  "dm_event_id": event_id}}, status_code=201)


@router.get("/2/dm_conversations/with/{participant_id}/dm_events")
async def list_dm_events(participant_id: str, request: Request) -> JSONResponse:
    if (denied := _unauthorized(request)) is not None:
        return denied
    with _lock:
        events = [{k: v for k, v in e.items() if k != "participant_id"}
                  for e in reversed(_dms) if e["participant_id"] == participant_id]
    return JSONResponse({"data": events, "meta": {"result_count": len(events)}})


def put_dm_media(data: bytes, mime_type: str, media_id: str) -> None:
    """A customer's photo (or file) attached to a DM, served on the sandbox's ton path."""
    with _lock:
        _dm_media[media_id] = {"data": data, "mime_type": mime_type}


def dm_media(sandbox_url: str, event_id: str, media_id: str, name: str = "photo.jpg",
             kind: str = "photo") -> dict[str, Any]:
    """The v1.1 media entity of a DM's `message_data.attachment.media`."""
    url = f"{sandbox_url.rstrip('/')}{PREFIX}/1.1/ton/data/dm/{event_id}/{media_id}/{name}"
    return {"id": int(media_id) if media_id.isdigit() else media_id, "id_str": media_id,
            "type": kind, "media_url_https": url, "url": "https://t.co/sandboxDM",
            "display_url": "pic.twitter.com/sandboxDM"}


@router.get("/1.1/ton/data/dm/{event_id}/{media_id}/{name}")
async def dm_media_bytes(event_id: str, media_id: str, name: str,
                         request: Request) -> Response:
    """ton.twitter.com serves DM media only to a request signed with OAuth 1.0a user
    context (a bearer token is refused)."""
    header = request.headers.get("authorization", "")
    if not (header.startswith("OAuth ") and "oauth_signature=" in header):
        return Response(status_code=401)
    with _lock:
        item = _dm_media.get(media_id)
    if item is None:
        return Response(status_code=404)
    return Response(content=item["data"], media_type=item["mime_type"])


@router.get("/2/users/{user_id}/tweets")
async def list_tweets(user_id: str, request: Request) -> JSONResponse:
    if (denied := _unauthorized(request)) is not None:
        return denied
    with _lock:
        tweets = [dict(t) for t in reversed(_posted) if t["author_id"] in (user_id, "0")]
    return JSONResponse(_page(tweets, [], request))


@router.get("/2/users/{user_id}/mentions")
async def list_mentions(user_id: str, request: Request) -> JSONResponse:
    if (denied := _unauthorized(request)) is not None:
        return denied
    since = request.query_params.get("since_id", "")
    with _lock:
        tweets = [{k: v for k, v in t.items() if k != "_mentions"} for t in _mentions
                  if t["_mentions"] == user_id
                  and (not since.isdigit() or int(t["id"]) > int(since))]
        users = dict(_users)
    tweets.sort(key=lambda t: int(t["id"]), reverse=True)
    return JSONResponse(_page(tweets, [users[t["author_id"]] for t in tweets
                                       if t["author_id"] in users], request))


_OPERATOR = re.compile(r"^-?(is|lang|has):\S+$")


def _terms(query: str) -> list[str]:
    """The OR'ed terms of a recent search query, lower-case (quotes and brackets dropped,
    `-is:`/`lang:`/`has:` operators ignored): enough of X's syntax for listening's queries."""
    out: list[str] = []
    for part in re.findall(r'"[^"]*"|\S+', query.replace("(", " ").replace(")", " ")):
        if part.upper() == "OR" or _OPERATOR.match(part):
            continue
        term = part.strip('"').strip().lower()
        if term:
            out.append(term)
    return out


def _matches(tweet: dict[str, Any], terms: list[str], users: dict[str, dict[str, Any]]) -> bool:
    text = str(tweet.get("text", "")).lower()
    author = str(users.get(str(tweet.get("author_id")), {}).get("username", "")).lower()
    replied = str(users.get(str(tweet.get("in_reply_to_user_id")), {}).get(
        "username", "")).lower()
    for term in terms:
        if term.startswith("from:"):
            if author and author == term[5:].lstrip("@"):
                return True
        elif term.startswith("to:"):
            if replied and replied == term[3:].lstrip("@"):
                return True
        elif term in text:
            return True
    return False


@router.get("/2/tweets/search/recent")
async def search_recent(request: Request) -> JSONResponse:
    if (denied := _unauthorized(request)) is not None:
        return denied
    query = request.query_params.get("query", "")
    if not query.strip() or len(query) > 512:
        return _invalid("query must have 1 to 512 characters")
    since = request.query_params.get("since_id", "")
    terms = _terms(query)
    with _lock:
        users = dict(_users)
        tweets = [dict(t) for t in _public
                  if (not since.isdigit() or int(t["id"]) > int(since))
                  and _matches(t, terms, users)]
    tweets.sort(key=lambda t: int(t["id"]), reverse=True)
    return JSONResponse(_page(tweets, [users[t["author_id"]] for t in tweets
                                       if t["author_id"] in users], request))


def _page(tweets: list[dict[str, Any]], users: list[dict[str, Any]],
          request: Request) -> dict[str, Any]:
    """One page (newest first) with X's `meta`; `pagination_token` is an offset here."""
    query = request.query_params
    size = int(query["max_results"]) if query.get("max_results", "").isdigit() else 10
    size = min(max(size, 5), 100)
    token = query.get("pagination_token", "") or query.get("next_token", "")
    start = int(token) if token.isdigit() else 0
    chunk = tweets[start:start + size]
    meta: dict[str, Any] = {"result_count": len(chunk)}
    if chunk:
        meta.update(newest_id=chunk[0]["id"], oldest_id=chunk[-1]["id"])
    if start + size < len(tweets):
        meta["next_token"] = str(start + size)
    page: dict[str, Any] = {"meta": meta}
    if chunk:
        page["data"] = chunk
        authors = {t.get("author_id") for t in chunk}
        unique = {u["id"]: u for u in users if u["id"] in authors}
        if unique:
            page["includes"] = {"users": list(unique.values())}
    return page


# --- webhook builders (the sandbox playing customers) -------------------------------------------


def _ms(at: datetime | None) -> str:
    return str(int((at or datetime.now(UTC)).timestamp() * 1000))


def _v1_time(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _signed(account_id: str, config: dict[str, Any], payload: dict[str, Any]) -> SignedWebhook:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return SignedWebhook(
        path=f"/webhooks/x/{account_id}", body=body,
        headers={"content-type": "application/json",
                 SIGNATURE_HEADER: sign(str(config["consumer_secret"]), body)})


def mention_webhook(account_id: str, config: dict[str, Any], tweet_id: str, user_id: str,
                    screen_name: str, text: str, in_reply_to: str | None = None,
                    created_at: datetime | None = None,
                    name: str | None = None) -> SignedWebhook:
    """A customer's tweet mentioning (or replying to) the account: `tweet_create_events`."""
    own_id = str(config["user_id"])
    tweet: dict[str, Any] = {
        "created_at": _v1_time(created_at), "id_str": tweet_id, "text": text,
        "in_reply_to_status_id_str": in_reply_to,
        "in_reply_to_user_id_str": own_id if in_reply_to else None,
        "user": {"id_str": user_id, "screen_name": screen_name, "name": name or screen_name},
        "entities": {"user_mentions": [{"id_str": own_id}], "hashtags": [], "urls": []},
        "timestamp_ms": _ms(created_at),
    }
    return _signed(account_id, config, {"for_user_id": own_id, "user_has_blocked": "false",
                                        "tweet_create_events": [tweet]})


def public_tweet_webhook(account_id: str, config: dict[str, Any], tweet_id: str, user_id: str,
                        screen_name: str, text: str, *, retweet_of: str | None = None,
                        followers: int | None = None, in_reply_to: str | None = None,
                        in_reply_to_user_id: str | None = None,
                        created_at: datetime | None = None) -> SignedWebhook:
    """A public tweet delivered to the account: a retweet of `retweet_of` (X sends the
    account's followers' retweets of its tweets), or a reply in a thread (`in_reply_to`,
    to `in_reply_to_user_id`, which may be someone else); `followers` is the author's
    follower count (v1.1 `user.followers_count`)."""
    own_id = str(config["user_id"])
    user: dict[str, Any] = {"id_str": user_id, "screen_name": screen_name, "name": screen_name}
    if followers is not None:
        user["followers_count"] = followers
    tweet: dict[str, Any] = {
        "created_at": _v1_time(created_at), "id_str": tweet_id, "text": text, "user": user,
        "in_reply_to_status_id_str": in_reply_to, "in_reply_to_user_id_str": in_reply_to_user_id,
        "entities": {"user_mentions": [], "hashtags": [], "urls": []},
        "timestamp_ms": _ms(created_at),
    }
    if retweet_of:
        tweet["retweeted_status"] = {"id_str": retweet_of, "text": text,
                                     "user": {"id_str": own_id, "screen_name": "acme"}}
    return _signed(account_id, config, {"for_user_id": own_id, "tweet_create_events": [tweet]})


def dm_webhook(account_id: str, config: dict[str, Any], event_id: str, sender_id: str,
               screen_name: str, text: str, created_at: datetime | None = None,
               name: str | None = None, media: dict[str, Any] | None = None) -> SignedWebhook:
    """A customer's DM to the account: `direct_message_events` with the `users` map; with
    `media` (from `dm_media`), a photo or file attached as `message_data.attachment`."""
    own_id = str(config["user_id"])
    data: dict[str, Any] = {"text": text, "entities": {
        "hashtags": [], "symbols": [], "user_mentions": [], "urls": []}}
    if media is not None:
        data["attachment"] = {"type": "media", "media": media}
    event = {"type": "message_create", "id": event_id, "created_timestamp": _ms(created_at),
             "message_create": {"target": {"recipient_id": own_id}, "sender_id": sender_id,
                                "message_data": data}}
    users = {sender_id: {"id": sender_id, "screen_name": screen_name,
                         "name": name or screen_name}}
    return _signed(account_id, config, {"for_user_id": own_id,
                                        "direct_message_events": [event], "users": users})


def delete_webhook(account_id: str, config: dict[str, Any], tweet_id: str, user_id: str,
                   at: datetime | None = None) -> SignedWebhook:
    """A customer deleted a tweet: `tweet_delete_events`."""
    return _signed(account_id, config, {
        "for_user_id": str(config["user_id"]),
        "tweet_delete_events": [{"status": {"id": tweet_id, "user_id": user_id},
                                 "timestamp_ms": _ms(at)}]})


def crc_webhook(account_id: str, crc_token: str = "sandbox_crc_token") -> SignedWebhook:
    """X's CRC check: a GET with `crc_token` (the answer proves the consumer secret)."""
    return SignedWebhook(path=f"/webhooks/x/{account_id}?crc_token={quote(crc_token)}",
                         body=b"", headers={}, method="GET")
