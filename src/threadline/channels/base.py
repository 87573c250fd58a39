"""The channel adapter contract.

A channel is a strategy behind the `ChannelAdapter` protocol, listed once in `registry.py`.
Adapters are pure translators between a provider's wire format and Threadline's normalised
DTOs: they import no database, no web framework and no domain package. The pipeline owns
storage; the web edge owns HTTP; the adapter only verifies, splits, normalises and sends.

Inbound flow (docs/design.md#inbound-flow):
    web edge builds a `WebhookRequest` (raw body bytes kept) ->
    adapter.handshake()  (GET: CRC / hub.challenge; or None)
    adapter.verify()     (signature; raises SignatureError)
    adapter.split()      (one body -> provider events, each with a stable provider_event_id)
    ... each event is stored durably, 2xx is answered, and later a worker calls ...
    adapter.normalize()  (one stored event payload -> normalised items)

Outbound flow: the sender worker builds an `OutboundMessage` and calls adapter.send(), which
returns a `SendResult` or raises `RetryableSendError` / `PermanentSendError`.

Optional hooks (checked with isinstance / getattr; adapters without them keep working):
    PollingAdapter.poll()           inbound pulled on a timer (IMAP, X mentions); raises
                                    `PollError` (or any ChannelError with `retryable`)
    ReconcilingAdapter.reconcile()  after a crash between a send and its commit, find the
                                    earlier send at the provider instead of sending twice
    resend_is_idempotent            True when sending the same message again is harmless
                                    (email: the Message-ID is derived from our message id)
"""

from __future__ import annotations

import base64
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, ParamSpec, Protocol, runtime_checkable
from urllib.parse import quote, quote_plus

import httpx

# The errors live in channels/errors.py; adapters and the pipeline import them from here.
from threadline.channels.errors import MAX_REASON_CHARS as MAX_REASON_CHARS
from threadline.channels.errors import OUTCOME_UNKNOWN_CODES as OUTCOME_UNKNOWN_CODES
from threadline.channels.errors import ChannelError as ChannelError
from threadline.channels.errors import PayloadError as PayloadError
from threadline.channels.errors import PermanentSendError as PermanentSendError
from threadline.channels.errors import PollError as PollError
from threadline.channels.errors import RetryableSendError as RetryableSendError
from threadline.channels.errors import SendPolicyError as SendPolicyError
from threadline.channels.errors import SignatureError as SignatureError
from threadline.channels.errors import clean_reason as clean_reason
from threadline.channels.urls import (
    STRICT,
    UrlRefused,
    check_provider_base,
)
from threadline.channels.urls import ProviderHosts as ProviderHosts  # re-exported: adapters
from threadline.channels.urls import UrlPolicy as UrlPolicy  # and the pipeline use them

JSON = dict[str, Any]
P = ParamSpec("P")


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class DeliveryState(enum.StrEnum):
    """Outbound delivery states; they never regress (failed is terminal)."""

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    RECEIVED = "received"  # inbound messages

    @property
    def rank(self) -> int:
        return _DELIVERY_RANK[self]


_DELIVERY_RANK = {
    DeliveryState.PENDING: 0,
    DeliveryState.SENT: 1,
    DeliveryState.DELIVERED: 2,
    DeliveryState.READ: 3,
    DeliveryState.FAILED: 4,
    DeliveryState.RECEIVED: 0,
}


class MessageKind(enum.StrEnum):
    MESSAGE = "message"  # a private message (DM, SMS, email, chat)
    POST = "post"  # a public top-level post or tweet
    COMMENT = "comment"  # a public comment or reply
    CALL = "call"  # a phone call record


# --- inbound ----------------------------------------------------------------------------------


# Config keys whose values are credentials (redacted from any text shown to agents).
_SECRET_KEY = re.compile(r"token|secret|password|key|auth", re.IGNORECASE)
_AUTH_SCHEME = re.compile(r"\b(bearer|basic|oauth)\s+[^\s,;\"']+", re.IGNORECASE)
_MIN_SECRET_CHARS = 6


@dataclass(frozen=True)
class AccountConfig:
    """A connected channel account as an adapter sees it (credentials included: never log).

    `urls` is what the operator allows beyond official provider hosts and public addresses;
    every call that carries a credential checks its URL or host against it first.
    """

    id: str
    kind: str
    name: str
    config: Mapping[str, Any]
    urls: UrlPolicy = STRICT

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    def require(self, key: str) -> Any:
        value = self.config.get(key)
        if value in (None, ""):
            raise ChannelError(f"channel account is missing config key {key!r}",
                               code="account_misconfigured")
        return value

    def provider_base(self, provider: ProviderHosts) -> str:
        """The provider API base URL to send credentials to: `api_base_url` when it is one of
        the provider's official hosts (or custom URLs are allowed), the official default when
        unset; refused otherwise, so a stored row can never redirect a credential."""
        return refuse_unsafe(check_provider_base, self.config.get("api_base_url"), provider,
                             self.urls)

    def secrets(self) -> list[str]:
        """Credential values of this account, longest first, for redaction."""
        values = {str(v) for k, v in self.config.items()
                  if _SECRET_KEY.search(k) and isinstance(v, str | int)
                  and len(str(v)) >= _MIN_SECRET_CHARS}
        return sorted(values, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` without this account's credentials (raw, URL-encoded or in an auth header)."""
        for value in self.secrets():
            for form in {value, quote(value, safe=""), quote(value, safe=":"),
                         quote_plus(value)}:
                text = text.replace(form, "[redacted]")
        users = [str(u) for u in (self.config.get("account_sid"), self.config.get("api_key_sid"))
                 if u]
        for user in users:  # HTTP basic auth (Twilio) echoed back
            for value in self.secrets():
                pair = base64.b64encode(f"{user}:{value}".encode()).decode()
                text = text.replace(pair, "[redacted]")
        return _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} [redacted]", text)

    def __repr__(self) -> str:  # credentials never appear in logs or tracebacks
        return f"AccountConfig(id={self.id!r}, kind={self.kind!r}, name={self.name!r})"


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    url: str  # the full URL the provider called (Twilio signs it)
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes  # raw bytes, exactly as received

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class WebhookResponse:
    status: int = 200
    body: bytes = b""
    media_type: str = "text/plain"


@dataclass(frozen=True)
class ProviderEvent:
    """One provider event cut out of a webhook body; stored as is, normalised later.

    `provider_event_id` must be stable across redeliveries
    (see docs/providers/README.md#idempotency).
    `payload` must be JSON-serialisable and hold everything `normalize` needs.
    """

    provider_event_id: str
    payload: JSON


@dataclass(frozen=True)
class Coordinate:
    """An address of a person on some channel kind: ('email', 'a@b.com'), ('phone', '+1...')."""

    kind: str
    address: str


@dataclass(frozen=True)
class Author:
    """Who wrote an inbound item, in the provider's terms.

    `identity_kind` + `provider_user_id` is the Identity (unique per workspace), e.g.
    ('x', '2244994945'), ('messenger', PSID), ('phone', '+14155550100'), ('email', 'a@b.com').
    `is_self` marks the company's own account (echoes of our sends, posts by the brand).
    `coordinates` are further addresses the provider vouches for (e.g. an email in a chat form).
    """

    identity_kind: str
    provider_user_id: str
    handle: str | None = None
    display_name: str | None = None
    is_self: bool = False
    coordinates: tuple[Coordinate, ...] = ()


@dataclass(frozen=True)
class Attachment:
    type: str  # image, video, audio, file, location, sticker...
    url: str | None = None
    mime_type: str | None = None
    provider_media_id: str | None = None
    name: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A new message, post, comment or call record.

    Threading keys (docs/threading.md):
      - `in_reply_to` (+ `references`): provider ids this item replies to -> rule 1;
      - `link_token`: a short-link / form token -> rule 2;
      - `thread_key`: a private thread (DM conversation id, phone number, chat visitor) -> rule 3.
    """

    provider_id: str
    author: Author
    visibility: Visibility
    text: str
    created_at: datetime  # UTC, aware
    kind: MessageKind = MessageKind.MESSAGE
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    root_provider_id: str | None = None
    thread_key: str | None = None
    link_token: str | None = None
    html: str | None = None
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    meta: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class StatusUpdate:
    """Delivery state of an outbound message we sent (matched on provider id)."""

    provider_id: str
    state: DeliveryState
    at: datetime
    error: str | None = None
    # Watermark semantics (Messenger read/delivery): every outbound message in `thread_key`
    # up to `at` takes the state. When set, provider_id may be empty.
    thread_key: str | None = None
    # Provider extras, e.g. {"client_message_id": <our message id>} echoed back by the
    # provider (WhatsApp biz_opaque_callback_data), so a send whose provider id was never
    # committed can still be matched. Not part of equality (added later to the contract).
    meta: JSON = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class MessageEdit:
    provider_id: str
    text: str
    at: datetime
    meta: JSON = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class MessageDelete:
    provider_id: str
    at: datetime


NormalizedItem = InboundMessage | StatusUpdate | MessageEdit | MessageDelete


# --- outbound ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundMessage:
    """What the sender worker asks an adapter to send.

    `message_id` is Threadline's id of the outbound message: the idempotency key.
    `recipient` is the customer's identity address on this channel (PSID, phone, email, user id).
    `in_reply_to` is the provider id being answered (tweet, comment, email Message-ID).
    `options` carries channel specifics: {"template": {...}}, {"tag": "HUMAN_AGENT"},
    {"private_reply_to": comment_id}, {"subject": ...}, {"references": [...]},
    {"choices": [{"id", "title"}, ...]} (answers offered as taps: see `choices_of`) ...
    """

    message_id: str
    visibility: Visibility
    text: str
    recipient: str | None = None
    in_reply_to: str | None = None
    thread_key: str | None = None
    root_provider_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    options: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class Choice:
    """One answer a message offers as a tap: a quick reply (Messenger, Instagram), a reply
    button or list row (WhatsApp), an inline keyboard button (Telegram). `id` comes back with
    the tap (quick-reply payload, button id, callback data); `title` is what the person sees.
    Adapters without such buttons ignore choices: the sender writes them into the text."""

    id: str
    title: str


# The smallest id any provider takes back (Telegram's callback_data: 1-64 bytes).
MAX_CHOICE_ID_BYTES = 64
MAX_CHOICES = 13  # Messenger's quick replies; the channels with fewer check their own


def choices_of(options: Mapping[str, Any]) -> tuple[Choice, ...]:
    """`options["choices"]` read strictly: a malformed list is a SendPolicyError (the options
    of a stored message come back as JSON)."""
    raw = options.get("choices")
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= MAX_CHOICES:
        raise SendPolicyError(f"choices are a list of 1 to {MAX_CHOICES} answers",
                              code="bad_choices")
    found: list[Choice] = []
    for item in raw:
        ident = item.get("id") if isinstance(item, Mapping) else None
        title = item.get("title") if isinstance(item, Mapping) else None
        if not (isinstance(ident, str) and isinstance(title, str) and ident and title.strip()
                and len(ident.encode()) <= MAX_CHOICE_ID_BYTES):
            raise SendPolicyError("each choice needs an id (at most 64 bytes) and a title",
                                  code="bad_choices")
        found.append(Choice(id=ident, title=title.strip()))
    if len({c.id for c in found}) != len(found):
        raise SendPolicyError("choice ids must differ", code="bad_choices")
    return tuple(found)


def check_choice_titles(choices: tuple[Choice, ...], *, most: int, title_chars: int,
                        channel: str) -> None:
    """A channel's own limits on choices (how many, how long a title)."""
    if len(choices) > most:
        raise SendPolicyError(f"{channel} offers at most {most} choices in one message",
                              code="too_many_choices", allowed=[f"at most {most} choices"])
    long = [c.title for c in choices if len(c.title) > title_chars]
    if long:
        raise SendPolicyError(f"a {channel} choice title has at most {title_chars} characters",
                              code="choice_title_too_long",
                              allowed=[f"titles of at most {title_chars} characters"])


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    state: DeliveryState = DeliveryState.SENT
    meta: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class SendContext:
    """What the conversation knows that a channel's policy needs
    (docs/providers/README.md#policy-fields)."""

    now: datetime
    last_inbound_at: datetime | None = None  # last inbound on this channel account + recipient
    replied_item_created_at: datetime | None = None  # e.g. the comment answered privately
    private_reply_used: bool = False


@dataclass(frozen=True)
class ChannelTraits:
    """What the composer and the policy checks need to know about a channel."""

    public: bool  # has a public surface
    private: bool  # has a private surface
    char_limit: int | None = None  # e.g. 280 on X
    window_hours: float | None = None  # customer-service window for free-form private sends
    realtime: bool = True  # False for delayed channels (email)
    can_hide: bool = False  # can hide a public post/comment
    identity_kind: str = ""  # the Identity kind this channel's authors have


@runtime_checkable
class ChannelAdapter(Protocol):
    """One provider. Stateless: every call gets the account; `http` is owned by the caller."""

    kind: ClassVar[str]
    traits: ClassVar[ChannelTraits]

    def handshake(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse | None:
        """Answer a provider's GET handshake (X CRC, Meta hub.challenge), or None if not one."""
        ...

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        """Raise SignatureError unless the request is signed by the provider."""
        ...

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        """Cut a verified body into provider events; raise PayloadError on a malformed body."""
        ...

    def ack(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse:
        """The 2xx answer to a stored POST (e.g. empty TwiML for Twilio)."""
        ...

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        """One stored event -> normalised items. Raise PayloadError if it cannot be read."""
        ...

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        """Raise SendPolicyError if the channel's rules forbid this send now."""
        ...

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        """Call the provider. Raise RetryableSendError / PermanentSendError."""
        ...

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        """Hide/unhide a post, place a call... (BaseAdapter refuses what is unsupported)."""
        ...

    def check_config(self, config: Mapping[str, Any], policy: UrlPolicy) -> None:
        """Raise ChannelError (code `unsafe_url`) if the configuration points credentials at a
        host they must not go to (BaseAdapter checks `api_base_url`)."""
        ...


@dataclass(frozen=True)
class ChannelAction:
    """A side effect other than a message: hide/unhide a comment, place a call, delete a post."""

    name: str  # "hide", "unhide", "call", ...
    target: str | None = None  # provider id acted on (comment id), or a number to call
    params: JSON = field(default_factory=dict)


@runtime_checkable
class PollingAdapter(Protocol):
    """Adapters whose inbound is pulled (IMAP, X mentions without webhooks)."""

    def poll(self, account: AccountConfig, cursor: JSON | None,
             http: httpx.Client) -> tuple[list[ProviderEvent], JSON]:
        """Fetch new events since `cursor`; return them and the next cursor (JSON)."""
        ...


@runtime_checkable
class ReconcilingAdapter(Protocol):
    """Adapters that can look up an earlier send at the provider (X, Twilio SMS).

    The sender calls `reconcile` before re-sending a message whose previous attempt may have
    reached the provider (a crash between the call and the commit, or a timeout after the
    request left). `since` is when that attempt started (minus a little clock slack).
    Return the earlier send's `SendResult`, or None when the provider has no such send and a
    re-send is safe. Raise RetryableSendError when the lookup itself cannot be done now.
    """

    def reconcile(self, account: AccountConfig, message: OutboundMessage, http: httpx.Client,
                  *, since: datetime | None = None) -> SendResult | None:
        ...


class BaseAdapter:
    """Shared behaviour; adapters subclass it and override what differs."""

    kind: ClassVar[str] = ""
    traits: ClassVar[ChannelTraits] = ChannelTraits(public=False, private=True)
    # True when sending the same OutboundMessage twice is harmless for the customer (the
    # provider deduplicates, or the copies are the same message, as with email Message-IDs).
    resend_is_idempotent: ClassVar[bool] = False
    # The provider's official API (default base URL and allowed hosts), if it has one.
    provider_hosts: ClassVar[ProviderHosts | None] = None

    def check_config(self, config: Mapping[str, Any], policy: UrlPolicy) -> None:
        """Refuse a configuration that would send credentials somewhere unsafe (run when an
        account is created or changed; the same checks run again at each call)."""
        if self.provider_hosts is not None:
            refuse_unsafe(check_provider_base, config.get("api_base_url"),
                          self.provider_hosts, policy)

    def handshake(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse | None:
        return None

    def ack(self, account: AccountConfig, request: WebhookRequest) -> WebhookResponse:
        return WebhookResponse(status=200, body=b"ok")

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        check_common_policy(self.traits, message, context)

    def act(self, account: AccountConfig, action: ChannelAction,
            http: httpx.Client) -> SendResult:
        raise PermanentSendError(f"{self.kind} does not support {action.name!r}",
                                 code="unsupported_action")


def refuse_unsafe(check: Callable[P, str], *args: P.args, **kwargs: P.kwargs) -> str:
    """Run one of the `urls` checks; a refusal is a PermanentSendError `unsafe_url` (never
    retried; shown to agents and, when an account is saved, answered as a 422)."""
    try:
        return check(*args, **kwargs)
    except UrlRefused as exc:
        raise PermanentSendError(f"refused to send credentials there: {exc}",
                                 code="unsafe_url") from None


def check_common_policy(traits: ChannelTraits, message: OutboundMessage,
                        context: SendContext) -> None:
    """Length limit, surface availability and the messaging window, for any channel."""
    if message.visibility is Visibility.PUBLIC and not traits.public:
        raise SendPolicyError("this channel has no public surface", code="no_public_surface",
                              allowed=["private"])
    if message.visibility is Visibility.PRIVATE and not traits.private:
        raise SendPolicyError("this channel has no private surface", code="no_private_surface",
                              allowed=["public"])
    if traits.char_limit is not None and len(message.text) > traits.char_limit:
        raise SendPolicyError(
            f"message is {len(message.text)} characters; this channel allows {traits.char_limit}",
            code="too_long", allowed=[f"at most {traits.char_limit} characters"])
    if (message.visibility is Visibility.PRIVATE and traits.window_hours is not None
            and not message.options.get("template") and not message.options.get("tag")):
        last = context.last_inbound_at
        if last is None or (context.now - last).total_seconds() > traits.window_hours * 3600:
            raise SendPolicyError(
                f"the {traits.window_hours:g}-hour messaging window is closed",
                code="window_closed", allowed=["template"])


def raise_for_provider_status(response: httpx.Response) -> None:
    """Map a provider HTTP answer to the retryable/permanent error types."""
    if response.status_code < 400:
        return
    reason = response.text[:500]
    if response.status_code == 429 or response.status_code >= 500:
        retry_after: float | None = None
        header = response.headers.get("retry-after")
        if header:
            try:
                retry_after = float(header)
            except ValueError:
                retry_after = None
        raise RetryableSendError(f"provider answered {response.status_code}: {reason}",
                                 retry_after=retry_after, code=f"http_{response.status_code}")
    raise PermanentSendError(f"provider answered {response.status_code}: {reason}",
                             code=f"http_{response.status_code}")
