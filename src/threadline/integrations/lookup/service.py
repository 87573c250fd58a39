"""The customer data connector: its configuration (one endpoint per workspace, admins only)
and the lookup itself, called from the desktop's customer panel and the API.

A lookup reads in one short transaction (the customer, the endpoint, the cached answer),
closes it, calls the endpoint with no transaction open (a strict timeout, client.py), then
stores the answer in another short transaction. The answer (or the failure) is reused for
the configured seconds by every web process (the `lookup_cache` table). The call is the one
read made inline for display (reference section 5.4): it changes nothing outside.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from threadline.channels.urls import UrlPolicy, UrlRefused, check_endpoint
from threadline.contacts.models import Customer, Evidence
from threadline.contacts.service import access_customer, identities_of
from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.service import audit
from threadline.integrations.lookup.client import Answer, call, new_secret, request_body
from threadline.integrations.lookup.contract import CustomerData
from threadline.integrations.lookup.models import LookupCacheEntry, LookupEndpoint, Outcome
from threadline.integrations.lookup.schemas import (
    LookupConfigIn,
    LookupFailure,
    LookupOut,
    LookupState,
)
from threadline.jobs.runtime import Runtime

NOT_FOUND_SECONDS = 30  # "no record" is reused at most this long (reference 5.3)
FAILURE_SECONDS = 15  # a failure: the next open after this tries again, not a loop
BUSY_MAX_SECONDS = 300  # a Retry-After is obeyed up to this
PHONE_KINDS = ("phone", "sms", "whatsapp", "voice")
MAX_IDENTITIES = 20


# --- configuration -----------------------------------------------------------------------


def get_endpoint(session: Session, workspace_id: uuid.UUID) -> LookupEndpoint | None:
    return session.scalar(select(LookupEndpoint).where(
        LookupEndpoint.workspace_id == workspace_id))


def access_endpoint(session: Session, workspace_id: uuid.UUID) -> LookupEndpoint:
    endpoint = get_endpoint(session, workspace_id)
    if endpoint is None:
        raise NotFound("no customer data endpoint is configured", code="lookup_not_configured")
    return endpoint


def check_url(url: str, policy: UrlPolicy) -> str:
    try:
        return check_endpoint(url, policy)
    except UrlRefused as exc:
        raise ValidationFailed(f"url: {exc}", code="invalid_lookup_url",
                               details={"field": "url"}) from None


def save_endpoint(session: Session, workspace_id: uuid.UUID, value: LookupConfigIn,
                  policy: UrlPolicy, actor: Actor) -> tuple[LookupEndpoint, str | None]:
    """Create or change the workspace's endpoint; returns it and, when it was created, its
    new secret (to show once). The cached answers are dropped: they came from the old one."""
    url = check_url(value.url, policy)
    endpoint = get_endpoint(session, workspace_id)
    secret: str | None = None
    now = utcnow()
    if endpoint is None:
        secret = new_secret()
        endpoint = LookupEndpoint(workspace_id=workspace_id, url=url, secret={"secret": secret},
                                  secret_set_at=now)
        session.add(endpoint)
    endpoint.url = url
    endpoint.enabled = value.enabled
    endpoint.timeout_seconds = value.timeout_seconds
    endpoint.cache_seconds = value.cache_seconds
    endpoint.updated_at = now
    session.flush()
    forget(session, workspace_id)
    audit(session, workspace_id, "workspace.lookup_endpoint_saved", "lookup_endpoint",
          endpoint.id, actor_type=actor.type, actor_id=actor.id,
          data={**value.model_dump(), "created": secret is not None})
    return endpoint, secret


def rotate_secret(session: Session, workspace_id: uuid.UUID,
                  actor: Actor) -> tuple[LookupEndpoint, str]:
    """A new secret replaces the old one at once (the brand updates its check)."""
    endpoint = access_endpoint(session, workspace_id)
    secret = new_secret()
    endpoint.secret = {"secret": secret}
    endpoint.secret_set_at = endpoint.updated_at = utcnow()
    audit(session, workspace_id, "workspace.lookup_secret_rotated", "lookup_endpoint",
          endpoint.id, actor_type=actor.type, actor_id=actor.id)
    return endpoint, secret


def delete_endpoint(session: Session, workspace_id: uuid.UUID, actor: Actor) -> None:
    endpoint = access_endpoint(session, workspace_id)
    forget(session, workspace_id)
    audit(session, workspace_id, "workspace.lookup_endpoint_deleted", "lookup_endpoint",
          endpoint.id, actor_type=actor.type, actor_id=actor.id)
    session.delete(endpoint)
    session.flush()


def forget(session: Session, workspace_id: uuid.UUID) -> None:
    session.execute(delete(LookupCacheEntry).where(
        LookupCacheEntry.workspace_id == workspace_id))


# --- the lookup --------------------------------------------------------------------------


@dataclass(frozen=True)
class LookupResult:
    state: str  # "off" or an Outcome
    data: CustomerData | None = None
    data_at: datetime | None = None
    error_code: str | None = None
    message: str | None = None
    status_code: int | None = None
    checked_at: datetime | None = None
    cached: bool = False

    @property
    def stale(self) -> bool:
        return self.data is not None and self.state != Outcome.OK


OFF = LookupResult(state="off")


def as_out(result: LookupResult) -> LookupOut:
    state: LookupState = result.state  # type: ignore[assignment]
    return LookupOut(state=state, data=result.data, data_at=result.data_at, stale=result.stale,
                     checked_at=result.checked_at, cached=result.cached,
                     error=LookupFailure(code=result.error_code, message=result.message or "",
                                         status=result.status_code)
                     if result.error_code else None)


@dataclass(frozen=True)
class _Call:
    url: str
    secret: str
    timeout_seconds: int
    cache_seconds: int
    body: bytes
    lookup_id: str
    previous: CustomerData | None
    previous_at: datetime | None


def customer_data(runtime: Runtime, policy: UrlPolicy, workspace_id: uuid.UUID,
                  customer_id: uuid.UUID, *, conversation_id: uuid.UUID | None = None,
                  refresh: bool = False) -> LookupResult:
    """What the brand's system says about this customer: the cached answer while it is
    fresh, else a call. NotFound for a customer of another workspace."""
    with runtime.db.session(write=False) as session:
        prepared = _prepare(session, workspace_id, customer_id, conversation_id, refresh)
    if isinstance(prepared, LookupResult):
        return prepared
    answer = call(runtime.http, prepared.url, prepared.secret, prepared.body,
                  prepared.lookup_id, timeout_seconds=prepared.timeout_seconds,
                  policy=policy)
    now = utcnow()
    try:
        with runtime.db.session() as session:
            _store(session, workspace_id, customer_id, prepared, answer, now)
    except IntegrityError:
        pass  # another process stored its answer at the same moment, or the customer is gone
    data, data_at = ((answer.data, now) if answer.outcome == Outcome.OK
                     else (None, None) if answer.outcome == Outcome.NOT_FOUND
                     else (prepared.previous, prepared.previous_at))
    return LookupResult(state=answer.outcome, data=data, data_at=data_at,
                        error_code=answer.error_code, message=answer.message,
                        status_code=answer.status_code, checked_at=now)


def _prepare(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID,
             conversation_id: uuid.UUID | None, refresh: bool) -> LookupResult | _Call:
    customer = access_customer(session, workspace_id, customer_id)
    endpoint = get_endpoint(session, workspace_id)
    if endpoint is None or not endpoint.enabled:
        return OFF
    entry = session.scalar(select(LookupCacheEntry).where(
        LookupCacheEntry.customer_id == customer_id,
        LookupCacheEntry.workspace_id == workspace_id))
    previous = _data(entry)
    if entry is not None and not refresh and entry.expires_at > utcnow():
        return LookupResult(state=entry.outcome, data=previous, data_at=entry.data_at,
                            error_code=entry.error_code, message=entry.message,
                            status_code=entry.status_code, checked_at=entry.checked_at,
                            cached=True)
    lookup_id = f"lkp_{new_id().hex}"
    conv = _conversation_of(session, workspace_id, customer_id, conversation_id)
    body = request_body(lookup_id=lookup_id, workspace_id=str(workspace_id),
                        customer=coordinates(session, customer),
                        conversation_id=str(conv) if conv else None, now=utcnow())
    return _Call(url=endpoint.url, secret=str(endpoint.secret.get("secret", "")),
                 timeout_seconds=endpoint.timeout_seconds,
                 cache_seconds=endpoint.cache_seconds, body=body, lookup_id=lookup_id,
                 previous=previous, previous_at=entry.data_at if entry else None)


def _conversation_of(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID,
                     conversation_id: uuid.UUID | None) -> uuid.UUID | None:
    """The conversation the panel is shown beside, only when it is this customer's."""
    if conversation_id is None:
        return None
    return session.scalar(select(Conversation.id).where(
        Conversation.id == conversation_id, Conversation.workspace_id == workspace_id,
        Conversation.customer_id == customer_id))


def coordinates(session: Session, customer: Customer) -> dict[str, Any]:
    """What the brand's system can find the customer by: the ids it gave us, the first email
    and phone number (verified ones first) and every identity."""
    identities = sorted(identities_of(session, customer.id),
                        key=lambda i: i.evidence != Evidence.VERIFIED)
    email = next((i.address for i in identities if i.kind == "email"), None)
    phone = next((i.address for i in identities
                  if i.kind in PHONE_KINDS and i.address.startswith("+")), None)
    return {"id": str(customer.id), "name": customer.name, "email": email, "phone": phone,
            "external_ids": dict(customer.external_ids or {}),
            "identities": [{"kind": i.kind, "address": i.address, "handle": i.handle,
                            "verified": i.evidence == Evidence.VERIFIED}
                           for i in identities[:MAX_IDENTITIES]]}


def _data(entry: LookupCacheEntry | None) -> CustomerData | None:
    if entry is None or entry.data is None:
        return None
    return CustomerData.model_validate(entry.data)


def _seconds(answer: Answer, configured: int) -> int:
    if answer.outcome == Outcome.OK:
        return configured
    if answer.outcome == Outcome.NOT_FOUND:
        return min(configured, NOT_FOUND_SECONDS)
    if answer.retry_after is not None:
        return min(answer.retry_after, BUSY_MAX_SECONDS)
    return min(configured, FAILURE_SECONDS)


def _store(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID, prepared: _Call,
           answer: Answer, now: datetime) -> None:
    entry = session.scalar(select(LookupCacheEntry).where(
        LookupCacheEntry.customer_id == customer_id))
    if entry is None:
        entry = LookupCacheEntry(workspace_id=workspace_id, customer_id=customer_id)
        session.add(entry)
    entry.lookup_id = prepared.lookup_id
    entry.outcome = answer.outcome
    entry.status_code = answer.status_code
    entry.error_code = answer.error_code
    entry.message = answer.message
    entry.checked_at = now
    entry.expires_at = now + timedelta(seconds=_seconds(answer, prepared.cache_seconds))
    if answer.outcome == Outcome.OK and answer.data is not None:
        entry.data = answer.data.model_dump(mode="json")
        entry.data_at = now
    elif answer.outcome == Outcome.NOT_FOUND:
        entry.data = None
        entry.data_at = None
    session.flush()
