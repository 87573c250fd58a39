"""Durable ingest: the one way anything inbound enters Threadline.

Every inbound path ends in `store`: a provider webhook (`receive`: verify the signature, then
`accept`), a web chat envelope or a hop form's first question (`accept`, after the web chat's
own visitor token was checked), a poll of a provider API and a replay (`store`). The request
is cut into provider events by the channel adapter and stored raw, idempotently (unique per
channel account and provider event id); processing happens later, in the worker
(`threadline.inbound`). The caller commits, then answers: the provider gets its 2xx only
after the events are committed (store, then acknowledge). Every failure is a typed 4xx and
stores nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    ChannelError,
    PayloadError,
    ProviderEvent,
    SignatureError,
    WebhookRequest,
    WebhookResponse,
)
from threadline.channels.registry import get_adapter
from threadline.errors import BadRequest, NotFound, Unauthorized, ValidationFailed
from threadline.events.models import InboundEvent
from threadline.events.service import store_inbound
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


def store(session: Session, account: ChannelAccount,
          events: Sequence[ProviderEvent]) -> int:
    """Store provider events of one account; returns how many were new (a redelivery: 0)."""
    return store_inbound(session, workspace_id=account.workspace_id,
                         channel_account_id=account.id,
                         events=[(storable(e.provider_event_id), storable(e.payload))
                                 for e in events])


MAX_INT = 2**63 - 1


def storable(value: Any) -> Any:
    """A provider's JSON as both databases can store it. A signed delivery is the provider's
    word and is never refused for its content (a refusal would be retried for days): a NUL
    character or an unpaired surrogate (PostgreSQL refuses both) becomes U+FFFD, an integer
    beyond 64 bits becomes its decimal text."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
        return value
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if -MAX_INT - 1 <= value <= MAX_INT else str(value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def accept(session: Session, account: ChannelAccount, request: WebhookRequest) -> int:
    """Cut an already authenticated request into events and store them; returns how many
    were new (0: a retry of events stored already)."""
    events = _split(account, request)
    ids = [e.provider_event_id for e in events]
    known = set(session.scalars(select(InboundEvent.provider_event_id).where(
        InboundEvent.channel_account_id == account.id,
        InboundEvent.provider_event_id.in_(ids)))) if ids else set()
    store(session, account, events)
    return len(set(ids) - known)


def _split(account: ChannelAccount, request: WebhookRequest) -> list[ProviderEvent]:
    try:
        return get_adapter(account.kind).split(account_config(account), request)
    except (PayloadError, ChannelError) as exc:
        raise BadRequest(exc.message, code=exc.code) from None


def receive(session: Session, kind: str, account_id: str,
            request: WebhookRequest) -> IngestResult:
    """A provider's webhook delivery: the account must exist and be active, the signature
    must verify, then the body is stored."""
    account = load_account(session, kind, account_id)
    adapter = get_adapter(kind)
    config = account_config(account)
    try:
        adapter.verify(config, request)
    except SignatureError as exc:
        raise Unauthorized(exc.message, code=exc.code) from None
    events = _split(account, request)
    return IngestResult(adapter.ack(config, request), store(session, account, events),
                        len(events))
