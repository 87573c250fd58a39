"""The generic API channel: any system can post signed JSON events and receive signed sends.

Inbound: POST /webhooks/api/{account_id} with header
`X-Threadline-Signature: sha256=<hex HMAC-SHA256 of the raw body with the account's secret>`.
Outbound: POST to the account's `outbound_url` with the same signature header over our body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any, ClassVar

import httpx
from pydantic import ValidationError

from threadline.channels.api.payloads import ApiEnvelope, ApiEvent, ApiSendAnswer
from threadline.channels.base import (
    JSON,
    AccountConfig,
    Attachment,
    Author,
    BaseAdapter,
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
    ProviderEvent,
    RetryableSendError,
    SendResult,
    SignatureError,
    StatusUpdate,
    UrlPolicy,
    Visibility,
    WebhookRequest,
    raise_for_provider_status,
    refuse_unsafe,
)
from threadline.channels.urls import check_endpoint

SIGNATURE_HEADER = "x-threadline-signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class ApiAdapter(BaseAdapter):
    kind: ClassVar[str] = "api"
    traits: ClassVar[ChannelTraits] = ChannelTraits(public=True, private=True,
                                                    identity_kind="api")

    def check_config(self, config: Mapping[str, Any], policy: UrlPolicy) -> None:
        """`outbound_url` is the brand's own endpoint: any public https host."""
        if config.get("outbound_url") is not None:
            refuse_unsafe(check_endpoint, config["outbound_url"], policy)

    def verify(self, account: AccountConfig, request: WebhookRequest) -> None:
        given = request.header(SIGNATURE_HEADER)
        if not given:
            raise SignatureError("missing X-Threadline-Signature header", code="missing_signature")
        expected = sign(str(account.require("secret")), request.body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise SignatureError("signature does not match the body")

    def split(self, account: AccountConfig, request: WebhookRequest) -> list[ProviderEvent]:
        try:
            envelope = ApiEnvelope.model_validate_json(request.body)
        except ValidationError as exc:
            raise PayloadError(_describe(exc)) from None
        return [ProviderEvent(e.id, e.model_dump(mode="json", exclude_none=True))
                for e in envelope.events]

    def normalize(self, account: AccountConfig, payload: JSON) -> list[NormalizedItem]:
        try:
            event = ApiEvent.model_validate(payload)
        except ValidationError as exc:
            raise PayloadError(_describe(exc)) from None
        default_kind = str(account.get("identity_kind") or self.traits.identity_kind)
        if event.type == "message" and event.message:
            m = event.message
            coords: list[Coordinate] = []
            if m.author.email:
                coords.append(Coordinate("email", m.author.email))
            if m.author.phone:
                coords.append(Coordinate("phone", m.author.phone))
            author = Author(identity_kind=m.author.kind or default_kind,
                            provider_user_id=m.author.id, handle=m.author.handle,
                            display_name=m.author.name, is_self=m.author.is_self,
                            coordinates=tuple(coords))
            created = m.created_at if m.created_at.tzinfo else m.created_at.replace(tzinfo=UTC)
            return [InboundMessage(
                provider_id=m.id, author=author, visibility=Visibility(m.visibility),
                text=m.text, created_at=created.astimezone(UTC), kind=MessageKind(m.kind),
                in_reply_to=m.in_reply_to, references=tuple(m.references),
                thread_key=m.thread_key, link_token=m.link_token, subject=m.subject)]
        if event.type == "status" and event.status:
            s = event.status
            return [StatusUpdate(provider_id=s.message_id, state=DeliveryState(s.state),
                                 at=_utc(s.at), error=s.error)]
        if event.type == "edit" and event.edit:
            return [MessageEdit(provider_id=event.edit.message_id, text=event.edit.text,
                                at=_utc(event.edit.at))]
        if event.type == "delete" and event.delete:
            return [MessageDelete(provider_id=event.delete.message_id, at=_utc(event.delete.at))]
        raise PayloadError(f"event {event.id!r} of type {event.type!r} has no {event.type} body")

    def send(self, account: AccountConfig, message: OutboundMessage,
             http: httpx.Client) -> SendResult:
        body: dict[str, Any] = {
            "id": message.message_id,
            "text": message.text,
            "visibility": message.visibility.value,
            "recipient": message.recipient,
            "in_reply_to": message.in_reply_to,
            "thread_key": message.thread_key,
            "attachments": [_attachment(a) for a in message.attachments],
        }
        raw = json.dumps(body, separators=(",", ":")).encode()
        headers = {"content-type": "application/json",
                   "x-threadline-signature": sign(str(account.require("secret")), raw),
                   "idempotency-key": message.message_id}
        url = refuse_unsafe(check_endpoint, account.require("outbound_url"), account.urls)
        try:
            response = http.post(url, content=raw, headers=headers, follow_redirects=False)
        except httpx.TransportError as exc:
            raise RetryableSendError(f"transport error: {type(exc).__name__}") from None
        raise_for_provider_status(response)
        try:
            answer = ApiSendAnswer.model_validate_json(response.content or b"{}")
        except ValidationError:
            answer = ApiSendAnswer()
        return SendResult(provider_id=answer.id or message.message_id)


def _attachment(a: Attachment) -> JSON:
    return {"type": a.type, "url": a.url, "mime_type": a.mime_type, "name": a.name}


def _utc(value: Any) -> Any:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"invalid payload at {where or 'body'}: {first.get('msg', 'invalid')}"
