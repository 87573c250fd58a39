"""The web chat adapter (kind `webchat`).

Inbound: the web edge (`threadline.web.webchat`) authenticates the visitor token and builds a
`WebchatEnvelope`; this adapter splits and normalises it like any provider body. There is no
provider signature: the generic `/webhooks/webchat/...` path is refused outright, so the only
way in is the visitor-token route.
Outbound: nothing leaves over the network. The agent's message is already stored; the
visitor's browser reads it from the visitor-scoped stream, so `send()` only confirms it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import httpx
from pydantic import ValidationError

from threadline.channels.base import (
    JSON,
    AccountConfig,
    Author,
    BaseAdapter,
    ChannelTraits,
    Coordinate,
    DeliveryState,
    InboundMessage,
    MessageKind,
    NormalizedItem,
    OutboundMessage,
    PayloadError,
    ProviderEvent,
    SendContext,
    SendPolicyError,
    SendResult,
    SignatureError,
    StatusUpdate,
    Visibility,
    WebhookRequest,
    check_common_policy,
)
from threadline.channels.webchat.payloads import MAX_TEXT, WebchatEnvelope

THREAD_PREFIX = "visitor:"


def thread_key(visitor_id: str) -> str:
    """The private thread of one visitor (threading rule 3)."""
    return THREAD_PREFIX + visitor_id


class WebchatAdapter(BaseAdapter):
    kind: ClassVar[str] = "webchat"
    traits: ClassVar[ChannelTraits] = ChannelTraits(
        public=False, private=True, char_limit=MAX_TEXT, realtime=True,
        identity_kind="webchat")

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        raise SignatureError("web chat messages are accepted only at "
                             "/webchat/{account_id}/messages with a visitor token",
                             code="not_a_webhook")

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        envelope = _parse_json(request.body)
        return [ProviderEvent(envelope.event_id, envelope.model_dump(mode="json",
                                                                     exclude_none=True))]

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        try:
            envelope = WebchatEnvelope.model_validate(payload)
        except ValidationError as exc:
            raise PayloadError(_describe(exc)) from None
        if envelope.read is not None:
            return [StatusUpdate(provider_id=envelope.read.message_id,
                                 state=DeliveryState.READ, at=_utc(envelope.read.at))]
        message = envelope.message
        assert message is not None  # the envelope validator guarantees it
        visitor = envelope.visitor
        coordinates = (Coordinate("email", visitor.email),) if visitor.email else ()
        author = Author(identity_kind="webchat", provider_user_id=visitor.id,
                        display_name=visitor.name, coordinates=coordinates)
        meta: JSON = {"echo_id": message.echo_id, "verified": visitor.verified}
        if envelope.page_url:
            meta["page_url"] = envelope.page_url
        return [InboundMessage(
            provider_id=envelope.event_id, author=author, visibility=Visibility.PRIVATE,
            text=message.text, created_at=_utc(message.sent_at), kind=MessageKind.MESSAGE,
            thread_key=thread_key(visitor.id), link_token=envelope.link_token, meta=meta)]

    def check_send(self, account: AccountConfig, message: OutboundMessage,
                   context: SendContext) -> None:
        check_common_policy(self.traits, message, context)
        if not message.recipient or not message.thread_key:
            raise SendPolicyError("no web chat visitor has written in this conversation",
                                  code="no_visitor", allowed=["another channel"])

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        # The message is stored already; the visitor's stream shows it once it is "sent".
        return SendResult(provider_id=message.message_id, state=DeliveryState.SENT)


def _parse_json(body: bytes) -> WebchatEnvelope:
    try:
        return WebchatEnvelope.model_validate_json(body)
    except ValidationError as exc:
        raise PayloadError(_describe(exc)) from None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"invalid web chat body at {where or 'body'}: {first.get('msg', 'invalid')}"
