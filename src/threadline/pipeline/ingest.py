"""Durable ingest: verify a provider's request, cut it into events, store them, then answer.

The provider gets its 2xx only after the events are committed (store, then acknowledge).
Every failure is a typed 4xx and stores nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from threadline.channels.base import (
    ChannelError,
    PayloadError,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
)
from threadline.channels.registry import get_adapter
from threadline.errors import BadRequest, NotFound, Unauthorized, ValidationFailed
from threadline.events.service import store_inbound
from threadline.pipeline.inbound import account_config
from threadline.workspace.models import ChannelAccount


@dataclass(frozen=True)
class IngestResult:
    response: WebhookResponse
    stored: int
    received: int


def load_account(session: Session, kind: str, account_id: str) -> ChannelAccount:
    try:
        ident = uuid.UUID(account_id)
    except ValueError:
        raise NotFound("unknown channel account", code="unknown_account") from None
    account = session.get(ChannelAccount, ident)
    if account is None or account.kind != kind or not account.active:
        raise NotFound("unknown channel account", code="unknown_account")
    return account


def handshake(session: Session, kind: str, account_id: str,
              request: WebhookRequest) -> WebhookResponse:
    account = load_account(session, kind, account_id)
    try:
        answer = get_adapter(kind).handshake(account_config(account), request)
    except SignatureError as exc:
        raise Unauthorized(exc.message, code=exc.code) from None
    except ChannelError as exc:
        raise BadRequest(exc.message, code=exc.code) from None
    if answer is None:
        raise ValidationFailed("this channel has no handshake to answer", code="no_handshake")
    return answer


def ingest(session: Session, kind: str, account_id: str, request: WebhookRequest) -> IngestResult:
    account = load_account(session, kind, account_id)
    adapter = get_adapter(kind)
    config = account_config(account)
    try:
        adapter.verify(config, request)
    except SignatureError as exc:
        raise Unauthorized(exc.message, code=exc.code) from None
    try:
        events = adapter.split(config, request)
    except PayloadError as exc:
        raise BadRequest(exc.message, code=exc.code) from None
    except ChannelError as exc:
        raise BadRequest(exc.message, code=exc.code) from None
    stored = store_inbound(session, workspace_id=account.workspace_id,
                           channel_account_id=account.id,
                           events=[(e.provider_event_id, e.payload) for e in events])
    return IngestResult(adapter.ack(config, request), stored, len(events))
