"""Meta wire code shared by the Facebook/Messenger, Instagram and WhatsApp adapters.

Meta signs every webhook of every product the same way (`X-Hub-Signature-256`, HMAC-SHA256 of
the raw body with the App Secret), answers the same `hub.challenge` handshake, wraps events in
the same `{"object", "entry": [...]}` envelope and answers Graph API errors with the same
`{"error": {...}}` body. Messenger and Instagram DMs also share the `messaging[]` event shape
and the Send API. That code lives here once; the channel folders stay independent of each
other and import only this module and `base.py` (docs/providers/meta.md,
docs/providers/whatsapp.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    Author,
    ChannelTraits,
    DeliveryState,
    InboundMessage,
    MessageDelete,
    MessageEdit,
    MessageKind,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    PermanentSendError,
    ProviderHosts,
    RetryableSendError,
    SendContext,
    SendPolicyError,
    SignatureError,
    StatusUpdate,
    Visibility,
    WebhookRequest,
    WebhookResponse,
    check_choice_titles,
    check_common_policy,
    choices_of,
)

# The Graph API hosts (docs/providers/meta.md#graph-api): Facebook Login tokens call
# graph.facebook.com; Instagram accounts using Instagram Login call graph.instagram.com.
GRAPH = ProviderHosts("https://graph.facebook.com", frozenset({"graph.facebook.com"}))
INSTAGRAM_GRAPH = ProviderHosts("https://graph.facebook.com",
                                frozenset({"graph.facebook.com", "graph.instagram.com"}))
# docs/providers/meta.md#graph-api; accounts override it with `graph_version`
DEFAULT_GRAPH_VERSION = "v25.0"
SIGNATURE_HEADER = "x-hub-signature-256"
LEGACY_SIGNATURE_HEADER = "x-hub-signature"
METADATA_PREFIX = "threadline:"  # Send API `message.metadata`, echoed back on `is_echo` events
WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
QUICK_REPLIES = 13  # at most, with titles of at most 20 characters (Send API)
QUICK_REPLY_TITLE = 20
PRIVATE_REPLY_WINDOW = timedelta(days=7)
MESSAGE_TAGS = ("HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE")
# Graph error codes that mean "try again later": generic transient errors, app/page/business
# rate limits and the WhatsApp throughput (130429) and pair-rate (131056) limits.
RETRYABLE_GRAPH_CODES = frozenset({1, 2, 4, 17, 32, 613, 80001, 80002, 80006, 80007,
                                   130429, 131056})
_MAX_EPOCH_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z


class MetaModel(BaseModel):
    """Base of every Meta payload model: unknown fields ignored, numeric ids read as strings."""

    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True,
                              populate_by_name=True)


def describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"invalid payload at {where or 'body'}: {first.get('msg', 'invalid')}"


# --- signatures and handshake -----------------------------------------------------------------


def sign(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def sign_sha1(app_secret: str, body: bytes) -> str:
    """The legacy `X-Hub-Signature` value (HMAC-SHA1)."""
    return "sha1=" + hmac.new(app_secret.encode(), body, hashlib.sha1).hexdigest()


def verify_signature(account: AccountConfig, request: WebhookRequest) -> None:
    """Check `X-Hub-Signature-256` over the raw body; the SHA-1 header only if configured."""
    secret = str(account.require("app_secret"))
    given = request.header(SIGNATURE_HEADER)
    expected = sign(secret, request.body)
    if not given and account.get("accept_legacy_sha1"):
        given = request.header(LEGACY_SIGNATURE_HEADER)
        expected = sign_sha1(secret, request.body)
    if not given:
        raise SignatureError("missing X-Hub-Signature-256 header", code="missing_signature")
    if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
        raise SignatureError("signature does not match the body")


def hub_handshake(account: AccountConfig, request: WebhookRequest) -> WebhookResponse | None:
    """Answer Meta's GET subscription handshake; None when the request is not one."""
    if request.method.upper() != "GET":
        return None

    def param(name: str) -> str | None:
        return request.query.get(f"hub.{name}", request.query.get(f"hub_{name}"))

    mode, token, challenge = param("mode"), param("verify_token"), param("challenge")
    if mode is None and token is None and challenge is None:
        return None
    configured = str(account.get("verify_token") or "")
    if (mode == "subscribe" and configured and token is not None and challenge
            and len(challenge) <= 1024
            and hmac.compare_digest(token.encode(), configured.encode())):
        return WebhookResponse(status=200, body=challenge.encode(), media_type="text/plain")
    return WebhookResponse(status=403, body=b"verification failed", media_type="text/plain")


# --- envelope ---------------------------------------------------------------------------------


class Change(MetaModel):
    field: str = Field(max_length=100)
    value: dict[str, Any]


class Entry(MetaModel):
    id: str = Field(min_length=1, max_length=128)
    time: float | None = None
    messaging: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)
    changes: list[Change] = Field(default_factory=list, max_length=1000)
    field: str | None = Field(default=None, max_length=100)  # IG example: field/value inline
    value: dict[str, Any] | None = None

    def all_changes(self) -> list[Change]:
        inline = [Change(field=self.field, value=self.value)] if self.field and self.value else []
        return [*self.changes, *inline]


class Envelope(MetaModel):
    object: str = Field(max_length=100)
    entry: list[Entry] = Field(max_length=1000)


def load_envelope(body: bytes, objects: Iterable[str]) -> Envelope:
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise PayloadError(describe(exc)) from None
    expected = set(objects)
    if envelope.object not in expected:
        raise PayloadError(f"webhook object {envelope.object!r} is not one of {sorted(expected)}")
    return envelope


def entry_context(envelope: Envelope, entry: Entry) -> JSON:
    """The envelope fields every stored event keeps next to its own body."""
    return {"object": envelope.object, "entry_id": entry.id, "entry_time": entry.time}


# --- timestamps -------------------------------------------------------------------------------


def from_epoch(value: Any, *, millis: bool | None = None) -> datetime:
    """Seconds or milliseconds (numbers or digit strings) -> aware UTC datetime.

    millis=None guesses the unit from the magnitude (Meta's `entry.time` differs per product).
    """
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return _from_iso(value)
    if millis is None:
        millis = number > 100_000_000_000
    seconds = number / 1000 if millis else number
    if not 0 <= seconds <= _MAX_EPOCH_SECONDS:
        raise PayloadError(f"timestamp out of range: {str(value)[:40]!r}")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _from_iso(value: Any) -> datetime:
    """Graph's REST form `2025-03-05T10:15:00+0000`, accepted where a number is expected."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        if parsed is not None:
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else \
                parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        pass
    raise PayloadError(f"not a timestamp: {str(value)[:40]!r}")


def event_time(payload: JSON, *candidates: Any) -> datetime:
    """The first usable timestamp among candidates, then the entry time, else now."""
    for value in (*candidates, payload.get("entry_time")):
        if value is not None and value != "":
            return from_epoch(value)
    return datetime.now(UTC)


# --- Graph API calls --------------------------------------------------------------------------


def graph_url(account: AccountConfig, path: str) -> str:
    version = str(account.get("graph_version") or DEFAULT_GRAPH_VERSION).strip("/")
    if not version.startswith("v"):
        version = "v" + version
    base = account.provider_base(INSTAGRAM_GRAPH if account.kind == "instagram" else GRAPH)
    return f"{base}/{version}/{path.lstrip('/')}"


def graph_post(account: AccountConfig, http: httpx.Client, path: str, body: JSON) -> JSON:
    """POST JSON to the Graph API with the account's token; map failures to typed errors."""
    headers = {"authorization": f"Bearer {account.require('access_token')}",
               "content-type": "application/json"}
    try:
        response = http.post(graph_url(account, path), json=body, headers=headers,
                             follow_redirects=False)
    except httpx.TransportError as exc:
        raise RetryableSendError(f"transport error: {type(exc).__name__}",
                                 code="transport_error") from None
    raise_for_graph_error(response)
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise PermanentSendError("the provider accepted the call but its answer is unreadable",
                                 code="unreadable_answer")
    return data


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers.get("retry-after") or "")
    except ValueError:  # absent, or an HTTP date
        return None
    return seconds if 0 <= seconds <= 86_400 else None


def raise_for_graph_error(response: httpx.Response) -> None:
    """429/5xx and transient Graph codes -> RetryableSendError; other 4xx -> Permanent."""
    status = response.status_code
    if status < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    graph_code: int | None = None
    if isinstance(error, dict):
        code_value, sub = error.get("code"), error.get("error_subcode")
        graph_code = code_value if isinstance(code_value, int) else None
        reason = f"({code_value}{f'/{sub}' if sub else ''}) {error.get('message', '')}".strip()
        details = (error.get("error_data") or {}) if isinstance(error.get("error_data"), dict) \
            else {}
        if details.get("details"):
            reason += f": {details['details']}"
        transient = error.get("is_transient") is True
    else:
        reason, transient = response.text[:500], False
    message = f"provider answered {status}: {reason[:500]}"
    code = f"graph_{graph_code}" if graph_code is not None else f"http_{status}"
    if status == 429 or status >= 500 or transient or graph_code in RETRYABLE_GRAPH_CODES:
        raise RetryableSendError(message, retry_after=_retry_after(response), code=code)
    raise PermanentSendError(message, code=code)


# --- Messenger / Instagram DM events (messaging[]) --------------------------------------------


class Party(MetaModel):
    id: str = Field(min_length=1, max_length=128)


class ReplyTo(MetaModel):
    mid: str | None = Field(default=None, max_length=512)
    story: dict[str, Any] | None = None


class MediaPayload(MetaModel):
    url: str | None = Field(default=None, max_length=4096)


class MessagingAttachment(MetaModel):
    type: str = Field(default="file", max_length=50)
    payload: MediaPayload | None = None


class Message(MetaModel):
    mid: str = Field(min_length=1, max_length=512)
    text: str = Field(default="", max_length=100_000)
    is_echo: bool = False
    is_deleted: bool = False
    is_unsupported: bool = False
    attachments: list[MessagingAttachment] = Field(default_factory=list, max_length=100)
    quick_reply: dict[str, Any] | None = None
    reply_to: ReplyTo | None = None
    referral: dict[str, Any] | None = None
    metadata: str | None = Field(default=None, max_length=2000)


class Watermark(MetaModel):
    """Messenger sends `watermark` (+ `mids`); Instagram read events may name one `mid`."""

    watermark: int | None = Field(default=None, ge=0)
    mids: list[str] = Field(default_factory=list, max_length=1000)
    mid: str | None = Field(default=None, min_length=1, max_length=512)

    @property
    def key(self) -> str:
        if self.watermark is None and self.mid is None:
            raise PayloadError("delivery/read event without watermark or mid")
        return str(self.watermark) if self.watermark is not None else str(self.mid)


class Edit(MetaModel):
    mid: str = Field(min_length=1, max_length=512)
    text: str = Field(default="", max_length=100_000)
    num_edit: int = Field(default=0, ge=0)


class Postback(MetaModel):
    title: str = Field(default="", max_length=10_000)
    payload: str | None = Field(default=None, max_length=10_000)
    mid: str | None = Field(default=None, max_length=512)


class MessagingEvent(MetaModel):
    sender: Party
    recipient: Party
    timestamp: int | None = Field(default=None, ge=0)
    message: Message | None = None
    delivery: Watermark | None = None
    read: Watermark | None = None
    message_edit: Edit | None = None
    postback: Postback | None = None


def parse_messaging(raw: Any) -> MessagingEvent:
    try:
        return MessagingEvent.model_validate(raw)
    except ValidationError as exc:
        raise PayloadError(describe(exc)) from None


def messaging_event_id(event: MessagingEvent) -> str | None:
    """The dedupe key of a messaging event, or None for events we do not handle
    (docs/providers/README.md#idempotency)."""
    if event.message is not None:
        return f"{event.message.mid}:deleted" if event.message.is_deleted else event.message.mid
    if event.message_edit is not None:
        return f"{event.message_edit.mid}:edit:{event.message_edit.num_edit}"
    if event.delivery is not None:
        return f"delivery:{event.sender.id}:{event.delivery.key}"
    if event.read is not None:
        return f"read:{event.sender.id}:{event.read.key}"
    if event.postback is not None:
        return event.postback.mid or f"postback:{event.sender.id}:{event.timestamp}"
    return None


def normalize_messaging(raw: Any, *, self_id: str, identity_kind: str,
                        thread_prefix: str) -> list[NormalizedItem]:
    """One Messenger/IG-DM event -> items; thread_key is `<thread_prefix><PSID or IGSID>`."""
    event = parse_messaging(raw)
    when = event.timestamp
    if event.delivery is not None or event.read is not None:
        mark = event.delivery or event.read
        assert mark is not None
        state = DeliveryState.DELIVERED if event.delivery is not None else DeliveryState.READ
        stamp = mark.watermark if mark.watermark is not None else event.timestamp
        if stamp is None or (mark.watermark is None and mark.mid is None):
            raise PayloadError("delivery/read event without watermark, mid or timestamp")
        at = from_epoch(stamp, millis=True)
        mids = [*mark.mids, *([mark.mid] if mark.mid else [])]
        items: list[NormalizedItem] = [StatusUpdate(provider_id=mid, state=state, at=at)
                                       for mid in mids]
        if mark.watermark is not None:
            items.append(StatusUpdate(provider_id="", state=state, at=at,
                                      thread_key=thread_prefix + event.sender.id))
        return items
    if when is None:
        raise PayloadError("messaging event without timestamp")
    at = from_epoch(when, millis=True)
    if event.message_edit is not None:
        return [MessageEdit(provider_id=event.message_edit.mid, text=event.message_edit.text,
                            at=at)]
    if event.message is not None and event.message.is_deleted:
        return [MessageDelete(provider_id=event.message.mid, at=at)]
    is_self = event.sender.id == self_id or bool(event.message and event.message.is_echo)
    other = event.recipient.id if is_self else event.sender.id
    author = Author(identity_kind=identity_kind, provider_user_id=event.sender.id,
                    is_self=is_self)
    meta: JSON = {}
    if event.postback is not None:
        meta["postback_payload"] = event.postback.payload
        return [InboundMessage(
            provider_id=event.postback.mid or f"postback:{event.sender.id}:{when}",
            author=author, visibility=Visibility.PRIVATE, text=event.postback.title,
            created_at=at, thread_key=thread_prefix + other, meta=meta)]
    message = event.message
    if message is None:
        raise PayloadError("messaging event carries no message, edit, delivery or read")
    attachments = tuple(Attachment(type=a.type, url=a.payload.url if a.payload else None)
                        for a in message.attachments)
    for key in ("quick_reply", "referral"):
        if getattr(message, key) is not None:
            meta[key] = getattr(message, key)
    if message.reply_to is not None and message.reply_to.story is not None:
        meta["story"] = message.reply_to.story
    if message.is_unsupported:
        meta["unsupported"] = True
    if message.is_echo:
        meta["echo"] = True
        if message.metadata and message.metadata.startswith(METADATA_PREFIX):
            meta["client_message_id"] = message.metadata[len(METADATA_PREFIX):]
    return [InboundMessage(
        provider_id=message.mid, author=author, visibility=Visibility.PRIVATE,
        text=message.text, created_at=at, kind=MessageKind.MESSAGE,
        in_reply_to=message.reply_to.mid if message.reply_to else None,
        thread_key=thread_prefix + other, attachments=attachments, meta=meta)]


# --- Messenger / Instagram Send API and its policy -----------------------------------------
# (docs/providers/meta.md#send-api, docs/providers/meta.md#policy)


def _window_allowed(context: SendContext) -> list[str]:
    last = context.last_inbound_at
    allowed: list[str] = []
    if last is not None and context.now - last <= WINDOW:
        allowed.append("private")
    if last is not None and context.now - last <= HUMAN_AGENT_WINDOW:
        allowed.append("human_agent_tag")
    return [*allowed, "public"]


def check_messaging_send(traits: ChannelTraits, message: OutboundMessage,
                         context: SendContext) -> None:
    """Surface, length, the 24 h window, the HUMAN_AGENT tag and private-reply rules."""
    check_common_policy(dataclasses.replace(traits, window_hours=None), message, context)
    options = message.options
    if message.visibility is Visibility.PUBLIC:
        if not (message.in_reply_to or message.root_provider_id):
            raise SendPolicyError("a public reply needs the comment or post it answers",
                                  code="no_reply_target", allowed=["private"])
        return
    if len(message.attachments) > 1 or any(not a.url for a in message.attachments):
        raise SendPolicyError("one attachment with a URL per message", code="attachments",
                              allowed=["one attachment with a URL"])
    if message.attachments and message.text:
        raise SendPolicyError("a message carries text or one attachment, not both",
                              code="attachment_with_text", allowed=["text", "attachment"])
    check_choice_titles(choices_of(options), most=QUICK_REPLIES, title_chars=QUICK_REPLY_TITLE,
                        channel="Messenger")
    if options.get("private_reply_to"):
        created = context.replied_item_created_at
        if context.private_reply_used:
            raise SendPolicyError("this comment already got its one private reply",
                                  code="private_reply_used", allowed=_window_allowed(context))
        if created is not None and context.now - created > PRIVATE_REPLY_WINDOW:
            raise SendPolicyError("private replies are possible only within 7 days of the "
                                  "comment", code="private_reply_expired",
                                  allowed=_window_allowed(context))
        return
    tag, last = options.get("tag"), context.last_inbound_at
    if tag is not None and tag not in MESSAGE_TAGS:
        raise SendPolicyError(f"unknown message tag {str(tag)[:40]!r}", code="unknown_tag",
                              allowed=[f"tag {t}" for t in MESSAGE_TAGS])
    if last is None:
        raise SendPolicyError("the person must write first", code="no_conversation",
                              allowed=["private_reply", "public"])
    age = context.now - last
    if tag == "HUMAN_AGENT" and age > HUMAN_AGENT_WINDOW:
        raise SendPolicyError("the 7-day human-agent window is closed",
                              code="human_agent_window_closed", allowed=["public"])
    if tag is None and age > WINDOW:
        raise SendPolicyError("the 24-hour messaging window is closed", code="window_closed",
                              allowed=_window_allowed(context))


def messaging_body(message: OutboundMessage, *, thread_prefix: str, metadata: bool) -> JSON:
    """The Send API body: a private reply, a tagged message or a RESPONSE."""
    options = message.options
    content: JSON
    if message.attachments:
        first = message.attachments[0]
        if not first.url:
            raise PermanentSendError("the attachment has no public link to send (set "
                                     "THREADLINE_PUBLIC_URL)", code="attachment_missing")
        kind = first.type if first.type in {"image", "video", "audio"} else "file"
        content = {"attachment": {"type": kind,
                                  "payload": {"url": first.url, "is_reusable": True}}}
    else:
        content = {"text": message.text}
        choices = choices_of(options)
        if choices:  # docs/providers/meta.md#quick-replies
            content["quick_replies"] = [{"content_type": "text", "title": c.title,
                                         "payload": c.id} for c in choices]
    if metadata:
        content["metadata"] = METADATA_PREFIX + message.message_id
    private_reply = options.get("private_reply_to")
    if private_reply:
        key = "post_id" if options.get("private_reply_kind") == "post" else "comment_id"
        return {"recipient": {key: str(private_reply)}, "message": content}
    recipient = message.recipient or (message.thread_key or "").removeprefix(thread_prefix)
    if not recipient:
        raise PermanentSendError("no recipient for a private message", code="no_recipient")
    tag = options.get("tag")
    body: JSON = {"recipient": {"id": recipient},
                  "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE", "message": content}
    if tag:
        body["tag"] = str(tag)
    return body


def message_send_result(answer: JSON) -> tuple[str, JSON]:
    """(message_id, meta) from a Send API answer."""
    mid = answer.get("message_id")
    if not isinstance(mid, str) or not mid:
        raise PermanentSendError("the Send API answer has no message_id",
                                 code="unreadable_answer")
    recipient = answer.get("recipient_id")
    return mid, ({"recipient_id": str(recipient)} if recipient is not None else {})
