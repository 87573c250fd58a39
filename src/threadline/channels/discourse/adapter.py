"""Discourse community forum adapter (README.md here; integrations reference section 4).

Inbound: the forum's webhook POSTs `{"post": {...}}`, `{"topic": {...}}` or `{"ping": "OK"}`
to /webhooks/discourse/{account_id}, signed `X-Discourse-Event-Signature: sha256=<hex
HMAC-SHA256(webhook_secret, raw body)>`, named by `X-Discourse-Event-Type` / `X-Discourse-
Event`. Posts are public messages of one topic: provider id `<topic_id>:<post_number>`, every
post threaded to the one it answers (post 1 when none), the first post starting the topic's
conversation. The event id header is a delivery record (new on each retry), so the dedupe key
is the event name with the post id and version, or the topic id.
Outbound: `POST {forum}/posts.json` with `Api-Key` / `Api-Username` (the staff user) and
`{"topic_id", "raw", "reply_to_post_number"}`; `act("accept_solution")` marks a post as the
topic's solution (the solved plugin, path configurable: unverified).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from threadline.channels.base import (
    JSON,
    AccountConfig,
    Author,
    BaseAdapter,
    ChannelAction,
    ChannelError,
    ChannelTraits,
    Coordinate,
    DeliveryState,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    MessageKind,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderEvent,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    SendResult,
    SignatureError,
    UrlPolicy,
    Visibility,
    WebhookRequest,
    WebhookResponse,
    check_common_policy,
    refuse_unsafe,
)
from threadline.channels.discourse.payloads import (
    DcCreated,
    DcError,
    DcPost,
    DcPostBody,
    DcTopicBody,
)
from threadline.channels.urls import check_endpoint

SIGNATURE_HEADER = "x-discourse-event-signature"
EVENT_TYPE_HEADER = "x-discourse-event-type"
EVENT_HEADER = "x-discourse-event"
CHAR_LIMIT = 32_000  # Discourse's max_post_length default
POST_EVENTS = ("post_created", "post_edited", "post_destroyed")
TOPIC_EVENTS = ("topic_created", "topic_edited", "topic_revised", "topic_destroyed")
# The solved plugin's webhook events (event type "solved"; unverified: configurable).
SOLUTION_EVENTS = ("accepted_solution", "unaccepted_solution")
DEFAULT_EVENTS = POST_EVENTS + TOPIC_EVENTS + SOLUTION_EVENTS
SOLUTION_ACCEPT_PATH = "/solution/accept.json"  # the solved plugin's route (unverified)
REGULAR, WHISPER = 1, 4
IDENTITY = "discourse"
_PROVIDER_ID = re.compile(r"^(\d{1,16}):(\d{1,10})$")
_MAX_RETRY_AFTER = 24 * 3600.0
M = TypeVar("M", bound=BaseModel)


def provider_id(topic_id: int, post_number: int) -> str:
    """A post's id in Threadline: `<topic_id>:<post_number>` (a reply names its parent by
    topic and number, and the answer to `POST /posts.json` gives both)."""
    return f"{topic_id}:{post_number}"


def parse_provider_id(value: str | None) -> tuple[int, int] | None:
    found = _PROVIDER_ID.match(value or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


class DiscourseAdapter(BaseAdapter):
    kind: ClassVar[str] = "discourse"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=True, private=False, char_limit=CHAR_LIMIT, window_hours=None, realtime=False,
        can_hide=False, identity_kind=IDENTITY)

    def check_config(self, config: Mapping[str, Any], policy: UrlPolicy) -> None:
        """The forum is the brand's own site: any public https host (no official host)."""
        if config.get("api_base_url") not in (None, ""):
            refuse_unsafe(check_endpoint, config["api_base_url"], policy)

    # --- inbound ------------------------------------------------------------------------------

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        given = (request.header(SIGNATURE_HEADER) or "").strip()
        if not given:
            raise SignatureError("missing X-Discourse-Event-Signature header",
                                 code="missing_signature")
        secret = str(account.require("webhook_secret"))
        expected = sign(secret, request.body)
        if not hmac.compare_digest(given.lower().encode("ascii", "replace"),
                                   expected.encode("ascii")):
            raise SignatureError("X-Discourse-Event-Signature does not match")

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise PayloadError("Discourse webhooks must be sent as JSON (content type "
                               "application/json)", code="json_required")
        raw = _json(request.body)
        event_type = (request.header(EVENT_TYPE_HEADER) or "").strip().lower()
        event = (request.header(EVENT_HEADER) or "").strip().lower()
        if event_type == "ping" or "ping" in raw:
            return []  # the forum's test delivery: answered 200, nothing stored
        if not event:
            raise PayloadError("missing X-Discourse-Event header", code="missing_event")
        if event not in _accepted(account):
            return []  # user, category, like... events: acknowledged, not stored
        received = datetime.now(UTC).isoformat()
        if "post" in raw:
            post = _model(DcPostBody, raw).post
            if not _wanted(account, post, event):
                return []
            version = post.version if post.version is not None else 1
            key = (f"{event}:post:{post.id}" if event in SOLUTION_EVENTS
                   else f"{event}:post:{post.id}:v{version}")
            return [ProviderEvent(key, {"event": event, "post": raw["post"],
                                        "received_at": received})]
        if "topic" in raw:
            topic = _model(DcTopicBody, raw).topic
            if topic.archetype == "private_message":
                return []
            return [ProviderEvent(f"{event}:topic:{topic.id}",
                                  {"event": event, "topic": raw["topic"],
                                   "received_at": received})]
        raise PayloadError("a Discourse webhook body holds a post, a topic or a ping",
                           code="unknown_body")

    def ack(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse:
        return WebhookResponse(status=200, body=b'{"ok":true}', media_type="application/json")

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        event = payload.get("event") if isinstance(payload, dict) else None
        if not isinstance(event, str):
            raise PayloadError("stored Discourse event has no event name")
        if "topic" in payload:
            return []  # topic metadata: the first post (post_created #1) starts the topic
        raw_post = payload.get("post")
        if not isinstance(raw_post, dict):
            raise PayloadError("stored Discourse event has no post")
        post = _model(DcPostBody, {"post": raw_post}).post
        pid = provider_id(post.topic_id, post.post_number)
        if event == "post_destroyed":
            return [MessageDelete(provider_id=pid, at=_time(post.deleted_at or post.updated_at,
                                                            payload.get("received_at")))]
        text = _text(account, post)
        if event == "post_edited":
            return [MessageEdit(provider_id=pid, text=text,
                                at=_time(post.updated_at, payload.get("received_at")))]
        if event in SOLUTION_EVENTS:
            return [_solution(post, event, payload.get("received_at"))]
        first = post.post_number == 1
        meta: JSON = {"discourse": {"topic_id": post.topic_id, "post_id": post.id,
                                    "post_number": post.post_number,
                                    "username": post.username,
                                    "staff": bool(post.staff or post.admin or post.moderator)}}
        return [InboundMessage(
            provider_id=pid, author=_author(account, post), visibility=Visibility.PUBLIC,
            text=text, created_at=_time(post.created_at, payload.get("received_at")),
            kind=MessageKind.POST if first else MessageKind.COMMENT,
            in_reply_to=None if first else provider_id(post.topic_id,
                                                        post.reply_to_post_number or 1),
            root_provider_id=provider_id(post.topic_id, 1),
            subject=post.topic_title if first else None, meta=meta)]

    # --- outbound -----------------------------------------------------------------------------

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        check_common_policy(self.traits, message, context)
        if not message.text.strip():
            raise SendPolicyError("Discourse refuses an empty post", code="empty_message",
                                  allowed=["text"])
        if message.attachments:
            raise SendPolicyError("attachments are not posted to Discourse; link them",
                                  code="attachments_unsupported", allowed=["text"])
        if _topic(message) is None:
            raise SendPolicyError("no Discourse topic to reply in", code="no_topic")

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        target = _topic(message)
        if target is None:
            raise PermanentSendError("no Discourse topic to reply in", code="no_topic")
        topic_id, number = target
        body: JSON = {"topic_id": topic_id, "raw": message.text}
        if number is not None and number > 1:
            body["reply_to_post_number"] = number
        answer = _call(http, account, "/posts.json", body)
        try:
            created = DcCreated.model_validate(answer)
        except ValidationError:
            raise PermanentSendError("Discourse answered 200 without the new post",
                                     code="bad_response") from None
        return SendResult(provider_id=provider_id(created.topic_id, created.post_number),
                          state=DeliveryState.SENT, meta={"post_id": created.id})

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        """`accept_solution`: mark the post `params["post_id"]` (the post `target`) as the
        topic's solution through the solved plugin."""
        if action.name != "accept_solution":
            return super().act(account, action, http)
        post_id = action.params.get("post_id")
        if post_id is None:  # our own posts: the forum's id, found by topic and number
            post_id = _post_id_by_number(http, account, parse_provider_id(action.target))
        if not isinstance(post_id, int) or isinstance(post_id, bool) or post_id < 1:
            raise PermanentSendError("accepting a solution needs the post's id",
                                     code="no_post_id")
        path = str(account.get("solution_accept_path") or SOLUTION_ACCEPT_PATH)
        if not path.startswith("/") or "//" in path or ".." in path:
            raise PermanentSendError("solution_accept_path must be a path on the forum",
                                     code="account_misconfigured")
        _call(http, account, path, {"id": post_id})
        return SendResult(provider_id=action.target or str(post_id))


# --- helpers ------------------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """`sha256=` + lower-case hex HMAC-SHA256 of the raw body (Discourse's signature)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _json(body: bytes) -> dict[str, Any]:
    try:
        raw: Any = json.loads(body)
    except (ValueError, RecursionError):
        raise PayloadError("body is not JSON") from None
    if not isinstance(raw, dict):
        raise PayloadError("a Discourse webhook body is a JSON object")
    return raw


def _model(model: type[M], raw: Any) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise PayloadError(f"invalid Discourse payload at {where or 'body'}: "
                           f"{first.get('msg', 'invalid')}") from None


def _accepted(account: AccountConfig) -> frozenset[str]:
    names = account.get("events")
    if isinstance(names, list | tuple) and names:
        return frozenset(str(n).lower() for n in names)
    return frozenset(DEFAULT_EVENTS)


def _wanted(account: AccountConfig, post: DcPost, event: str) -> bool:
    """Public posts of the allowed categories: no private messages, whispers (staff only)
    or small actions ("closed this topic")."""
    if post.topic_archetype == "private_message":
        return False
    if post.post_type is not None and post.post_type != REGULAR and event != "post_destroyed":
        return False
    allowed = account.get("category_ids")
    if isinstance(allowed, list | tuple) and allowed and post.category_id is not None:
        return post.category_id in {int(c) for c in allowed if str(c).isdigit()}
    return True


def _author(account: AccountConfig, post: DcPost) -> Author:
    staff_user = str(account.get("api_username") or "").strip().lower()
    brand = account.get("staff_are_brand", True) is not False
    is_self = (bool(staff_user) and post.username.lower() == staff_user) or (
        brand and bool(post.staff or post.admin or post.moderator))
    coordinates: tuple[Coordinate, ...] = ()
    email = (post.user_email or "").strip()
    if email and "@" in email and not is_self:
        coordinates = (Coordinate("email", email),)
    return Author(identity_kind=IDENTITY, provider_user_id=_user_key(post),
                  handle=post.username, display_name=post.name or None, is_self=is_self,
                  coordinates=coordinates)


def _user_key(post: DcPost) -> str:
    """The user id (stable: usernames can be changed), else the username."""
    return str(post.user_id) if post.user_id is not None else f"@{post.username.lower()}"


def _solution(post: DcPost, event: str, received_at: Any) -> InboundMessage:
    """A solution accepted (or unaccepted) by the topic's author or staff: an item the
    community flow takes before threading (it never becomes a message there)."""
    accepted = event == "accepted_solution"
    number = post.post_number
    return InboundMessage(
        provider_id=f"solution:{post.topic_id}:{number}:{'on' if accepted else 'off'}:{post.id}",
        author=Author(identity_kind=IDENTITY, provider_user_id=_user_key(post),
                      handle=post.username, display_name=post.name or None),
        visibility=Visibility.PUBLIC,
        text=(f"Post #{number} was accepted as the solution" if accepted
              else f"Post #{number} is no longer the solution"),
        created_at=_time(post.updated_at, received_at), kind=MessageKind.COMMENT,
        in_reply_to=provider_id(post.topic_id, number),
        root_provider_id=provider_id(post.topic_id, 1),
        meta={"discourse_event": event, "topic_id": post.topic_id, "post_number": number,
              "post_id": post.id})


def _text(account: AccountConfig, post: DcPost) -> str:
    """`raw` (Markdown) by default; `show: cooked` shows the rendered HTML's text."""
    if account.get("show") == "cooked" and post.cooked:
        return " ".join(re.sub(r"<[^>]+>", " ", post.cooked).split())
    return post.raw if post.raw is not None else " ".join(
        re.sub(r"<[^>]+>", " ", post.cooked or "").split())


def _time(value: str | None, fallback: Any) -> datetime:
    for candidate in (value, fallback):
        if not isinstance(candidate, str) or not candidate:
            continue
        try:
            at = datetime.fromisoformat(candidate.replace("Z", "+00:00"))
        except ValueError:
            continue
        return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _topic(message: OutboundMessage) -> tuple[int, int | None] | None:
    """(topic id, post number answered) from the reply's anchor, its root or options."""
    for value in (message.in_reply_to, message.root_provider_id):
        parsed = parse_provider_id(value)
        if parsed is not None:
            return parsed
    topic = message.options.get("topic_id")
    if isinstance(topic, int) and not isinstance(topic, bool) and topic > 0:
        return topic, None
    return None


def _post_id_by_number(http: httpx.Client, account: AccountConfig,
                       target: tuple[int, int] | None) -> int | None:
    """`GET /posts/by_number/{topic_id}/{post_number}.json` -> the post's id."""
    if target is None:
        raise PermanentSendError("no Discourse post to accept", code="no_post")
    answer = _call(http, account, f"/posts/by_number/{target[0]}/{target[1]}.json", None)
    value = answer.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _call(http: httpx.Client, account: AccountConfig, path: str,
          body: JSON | None) -> dict[str, Any]:
    """POST `body` as JSON to the forum (GET when `body` is None), as the staff user."""
    base = refuse_unsafe(check_endpoint, account.require("api_base_url"), account.urls)
    headers = {"Api-Key": str(account.require("api_key")),
               "Api-Username": str(account.require("api_username")),
               "Accept": "application/json"}
    url = base.rstrip("/") + path
    try:
        if body is None:
            response = http.get(url, headers=headers, follow_redirects=False)
        else:
            response = http.post(url, content=json.dumps(body).encode(),
                                 headers={**headers, "Content-Type": "application/json"},
                                 follow_redirects=False)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise RetryableSendError(f"could not reach the forum: {type(exc).__name__}",
                                 code="transport_unreached") from None
    except httpx.TransportError as exc:
        raise RetryableSendError(f"no answer from the forum: {type(exc).__name__}",
                                 code="transport_ambiguous") from None
    if response.status_code < 300:
        try:
            answer: Any = response.json()
        except ValueError:
            answer = {}
        return answer if isinstance(answer, dict) else {}
    raise _error(response)


def _error(response: httpx.Response) -> ChannelError:
    try:
        error = DcError.model_validate_json(response.content or b"{}")
    except ValidationError:
        error = DcError()
    said = "; ".join(error.errors)[:300] or response.reason_phrase or "error"
    status = response.status_code
    reason = f"Discourse answered {status}: {said}"
    if status == 429 or status >= 500:
        wait = retry_after(response.headers.get("retry-after"))
        if wait is None and error.extras is not None:
            seconds = error.extras.get("wait_seconds")
            if isinstance(seconds, int | float) and not isinstance(seconds, bool):
                wait = min(max(float(seconds), 0.0), _MAX_RETRY_AFTER)
        limit = response.headers.get("discourse-rate-limit-error-code")
        code = "discourse_rate_limited" if status == 429 else f"discourse_{status}"
        if limit:
            reason += f" ({limit[:60]})"
        return RetryableSendError(reason, retry_after=wait, code=code)
    if status == 403:
        return PermanentSendError(reason + " (check the API key and the staff username)",
                                  code="discourse_invalid_access")
    if status == 422:
        return PermanentSendError(reason, code="discourse_record_invalid")
    return PermanentSendError(reason, code=f"discourse_{status}")


def retry_after(value: str | None) -> float | None:
    """`Retry-After` as delay-seconds or an HTTP-date (RFC 9110), bounded; None if absent."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)
