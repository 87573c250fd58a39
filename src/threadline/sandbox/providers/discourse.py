"""Sandbox side of a Discourse forum: `POST /posts.json` (a reply as the staff user, with
`Api-Key` / `Api-Username`), the solved plugin's `POST /solution/accept.json`, and signed
webhooks (`ping`, `topic_created`, `post_created`, `post_edited`, `accepted_solution`).

Like the forum it answers 403 `invalid_access` without credentials, 422 `record_invalid` for a
post that is too short or names no topic, and 429 with `Retry-After` and
`Discourse-Rate-Limit-Error-Code` past the admin API budget (60 a minute by default; the
`/_sandbox/limit` endpoint changes it). Accounts point `api_base_url` at sandbox base + PREFIX.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import zlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from threadline.sandbox.core import SignedWebhook, recorder_of

PREFIX = "/discourse"
INSTANCE = "https://community.sandbox.example"
MIN_POST_LENGTH = 20  # Discourse's min_post_length default
router = APIRouter()
_EVENT_IDS = itertools.count(int(time.time()) % 1_000_000 * 10)
_POST_IDS = itertools.count(int(time.time()) % 1_000_000 * 100)
_TOPIC_IDS = itertools.count(int(time.time()) % 100_000 * 10)
_lock = threading.Lock()
_topics: dict[int, dict[str, Any]] = {}  # topic id -> {"highest": n, "solution": post id}
_budget: dict[str, Any] = {"per_minute": 60, "calls": []}
_posts: dict[tuple[int, int], dict[str, Any]] = {}  # (topic id, post number) -> post


def _error(status: int, error_type: str, message: str,
           headers: dict[str, str] | None = None, **extras: Any) -> JSONResponse:
    body: dict[str, Any] = {"errors": [message], "error_type": error_type}
    if extras:
        body["extras"] = extras
    return JSONResponse(body, status_code=status, headers=headers)


def _authorised(request: Request) -> JSONResponse | None:
    if not request.headers.get("api-key") or not request.headers.get("api-username"):
        return _error(403, "invalid_access", "You are not permitted to view the requested "
                                             "resource. The API username or key is invalid.")
    now = time.monotonic()
    with _lock:
        calls = [t for t in _budget["calls"] if now - t < 60]
        if len(calls) >= int(_budget["per_minute"]):
            wait = max(1, int(60 - (now - calls[0])) + 1)
            _budget["calls"] = calls
            return _error(429, "rate_limit", f"You’ve performed this action too many times. "
                          f"Please wait {wait} seconds before trying again.",
                          headers={"Retry-After": str(wait),
                                   "Discourse-Rate-Limit-Error-Code":
                                   "admin_api_key_rate_limit"}, wait_seconds=wait)
        calls.append(now)
        _budget["calls"] = calls
    return None


async def _params(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/posts.json")
async def create_post(request: Request) -> JSONResponse:
    refused = _authorised(request)
    if refused is not None:
        return refused
    params = await _params(request)
    raw = params.get("raw")
    if not isinstance(raw, str) or len(raw.strip()) < MIN_POST_LENGTH:
        return _error(422, "record_invalid",
                      f"Body is too short (minimum is {MIN_POST_LENGTH} characters)")
    try:
        topic_id = int(params.get("topic_id") or 0)
    except (TypeError, ValueError):
        topic_id = 0
    if topic_id <= 0:
        return _error(422, "record_invalid", "Title can't be blank")
    with _lock:
        topic = _topics.setdefault(topic_id, {"highest": 1, "solution": None})
        topic["highest"] += 1
        number = topic["highest"]
    post_id = next(_POST_IDS)
    reply_to = params.get("reply_to_post_number")
    username = request.headers.get("api-username", "")
    post = {
        "id": post_id, "topic_id": topic_id, "post_number": number, "username": username,
        "raw": raw, "cooked": f"<p>{raw}</p>", "created_at": _now(), "version": 1,
        "reply_to_post_number": int(str(reply_to)) if str(reply_to or "").isdigit() else None,
        "post_url": f"/t/{topic_id}/{number}", "staff": True,
        "recorded": recorder_of(request).next_id()}
    with _lock:
        _posts[(topic_id, number)] = post
    return JSONResponse(post)


@router.post("/solution/accept.json")
async def accept_solution(request: Request) -> JSONResponse:
    refused = _authorised(request)
    if refused is not None:
        return refused
    params = await _params(request)
    try:
        post_id = int(params.get("id") or 0)
    except (TypeError, ValueError):
        post_id = 0
    if post_id <= 0:
        return _error(400, "invalid_parameters", "id is missing")
    return JSONResponse({"success": "OK", "accepted_answer": {"post_number": None,
                                                               "post_id": post_id}})


@router.get("/posts/by_number/{topic_id}/{post_number}.json")
async def post_by_number(topic_id: int, post_number: int, request: Request) -> JSONResponse:
    refused = _authorised(request)
    if refused is not None:
        return refused
    with _lock:
        known = _posts.get((topic_id, post_number))
    if known is None:
        return _error(404, "not_found", "The requested URL or resource could not be found.")
    return JSONResponse(known)


@router.post("/_sandbox/limit")
async def set_limit(request: Request) -> JSONResponse:
    """The admin API budget per minute (tests of 429), and a reset of what was spent."""
    params = await _params(request)
    with _lock:
        _budget["per_minute"] = int(params.get("per_minute") or 60)
        _budget["calls"] = []
    return JSONResponse({"ok": True, "per_minute": _budget["per_minute"]})


# --- webhook builders (the sandbox plays the forum's members) ------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _signed(account_id: str, config: dict[str, Any], event_type: str, event: str | None,
            body: dict[str, Any]) -> SignedWebhook:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"content-type": "application/json", "user-agent": "Discourse/3.4.0",
               "x-discourse-instance": INSTANCE,
               "x-discourse-event-id": str(next(_EVENT_IDS)),  # new on every delivery
               "x-discourse-event-type": event_type}
    if event:
        headers["x-discourse-event"] = event
    secret = config.get("webhook_secret")
    if secret:
        headers["x-discourse-event-signature"] = sign(str(secret), raw)
    return SignedWebhook(path=f"/webhooks/discourse/{account_id}", body=raw, headers=headers)


def _uid(username: str) -> int:
    """A stable user id per username (the same in every process)."""
    return zlib.crc32(username.lower().encode()) % 10**6 + 10


def new_topic_id() -> int:
    return next(_TOPIC_IDS)


def post_payload(topic_id: int, post_number: int, username: str, raw: str, *,
                 post_id: int | None = None, title: str = "A question",
                 reply_to_post_number: int | None = None, user_id: int | None = None,
                 staff: bool = False, version: int = 1, category_id: int = 5,
                 name: str | None = None, created_at: str | None = None) -> dict[str, Any]:
    stamp = created_at or _now()
    return {
        "id": post_id or next(_POST_IDS), "name": name or username.title(),
        "username": username, "avatar_template": f"/user_avatar/{username}/{{size}}/1.png",
        "created_at": stamp, "cooked": f"<p>{raw}</p>", "post_number": post_number,
        "post_type": 1, "updated_at": stamp, "reply_count": 0,
        "reply_to_post_number": reply_to_post_number, "quote_count": 0, "reads": 1,
        "score": 0, "topic_id": topic_id, "topic_slug": "a-question", "topic_title": title,
        "category_id": category_id, "display_username": name or username.title(),
        "version": version, "raw": raw, "moderator": staff, "admin": False, "staff": staff,
        "user_id": user_id if user_id is not None else _uid(username),
        "hidden": False, "trust_level": 1, "deleted_at": None, "user_deleted": False,
        "wiki": False, "post_url": f"/t/a-question/{topic_id}/{post_number}",
        "topic_posts_count": post_number, "topic_archetype": "regular",
        "category_slug": "support"}


def topic_webhooks(account_id: str, config: dict[str, Any], username: str, raw: str, *,
                   title: str = "A question", topic_id: int | None = None,
                   user_id: int | None = None, created_at: str | None = None,
                   email: str | None = None) -> tuple[int, list[SignedWebhook]]:
    """A member opens a topic: `topic_created` (metadata) then `post_created` for post 1.
    `email` adds `user_email` to the post (a forum that shares it: unverified)."""
    topic_id = topic_id or new_topic_id()
    with _lock:
        _topics.setdefault(topic_id, {"highest": 1, "solution": None})
    stamp = created_at or _now()
    uid = user_id if user_id is not None else _uid(username)
    topic = {"id": topic_id, "title": title, "fancy_title": title, "posts_count": 1,
             "created_at": stamp, "views": 0, "reply_count": 0, "like_count": 0,
             "last_posted_at": stamp, "visible": True, "closed": False, "archived": False,
             "archetype": "regular", "slug": "a-question", "category_id": 5,
             "word_count": len(raw.split()), "deleted_at": None, "user_id": uid,
             "created_by": {"id": uid, "username": username, "name": username.title()},
             "last_poster": {"id": uid, "username": username, "name": username.title()},
             "tags": []}
    post = post_payload(topic_id, 1, username, raw, title=title, user_id=uid,
                        created_at=stamp)
    if email:
        post["user_email"] = email
    return topic_id, [_signed(account_id, config, "topic", "topic_created", {"topic": topic}),
                      _signed(account_id, config, "post", "post_created", {"post": post})]


def post_webhook(account_id: str, config: dict[str, Any], topic_id: int, username: str,
                 raw: str, *, post_number: int | None = None,
                 reply_to_post_number: int | None = None, staff: bool = False,
                 event: str = "post_created", post_id: int | None = None, version: int = 1,
                 user_id: int | None = None,
                 created_at: str | None = None) -> tuple[dict[str, Any], SignedWebhook]:
    """A member (or staff, `staff=True`) posts in a topic; (the post, its webhook)."""
    if post_number is None:
        with _lock:
            topic = _topics.setdefault(topic_id, {"highest": 1, "solution": None})
            topic["highest"] += 1
            post_number = topic["highest"]
    post = post_payload(topic_id, post_number, username, raw, post_id=post_id,
                        reply_to_post_number=reply_to_post_number, staff=staff,
                        version=version, user_id=user_id, created_at=created_at)
    return post, _signed(account_id, config, "post", event, {"post": post})


def solution_webhook(account_id: str, config: dict[str, Any], post: dict[str, Any], *,
                     accepted: bool = True) -> SignedWebhook:
    """The solved plugin: the topic's author accepts `post` as the solution."""
    with _lock:
        _topics.setdefault(int(post["topic_id"]), {"highest": 1, "solution": None})[
            "solution"] = post["id"] if accepted else None
    event = "accepted_solution" if accepted else "unaccepted_solution"
    return _signed(account_id, config, "solved", event, {"post": post})


def ping_webhook(account_id: str, config: dict[str, Any]) -> SignedWebhook:
    return _signed(account_id, config, "ping", "ping", {"ping": "OK"})
