"""Data-subject requests: export a customer's data as one JSON archive, erase a customer.
Services take a session and never commit; both requests are audited (the fact, who, when,
which customer; never the data)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from threadline.contacts.models import Consent, Customer, CustomerMerge, Identity, MergeSuggestion
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor
from threadline.db.base import Base, utcnow
from threadline.db.locks import workspace_lock
from threadline.errors import ValidationFailed
from threadline.events.models import AuditEvent
from threadline.events.service import audit, enqueue, publish
from threadline.hops.records.models import Callback, DetailRequest, Hop, ShortLink
from threadline.subjects.erasers import (
    CSAT_EXPORTED,
    CSAT_SURVEYS,
    ERASED_ACTION,
    ERASERS,
    EXPORTED_ACTION,
    Erasure,
    csat_survey_ids,
)
from threadline.subjects.subject import Subject, collect

FORMAT = "threadline.customer-export/1"
COMPACT_JOB = "subjects.compact"
CONFIRM_WORD = "ERASE"
HIDDEN_COLUMNS = {"short_links": {"code_hash"}}  # a hash of a live secret, not his data


@dataclass(frozen=True)
class ErasureReport:
    customer_id: uuid.UUID
    customers: list[uuid.UUID]
    erased_at: datetime
    counts: dict[str, int]


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


def row_dict(row: Base) -> dict[str, Any]:
    hidden = HIDDEN_COLUMNS.get(str(row.__tablename__), set())  # type: ignore[attr-defined]
    return {c.key: _json(getattr(row, c.key)) for c in row.__mapper__.column_attrs
            if c.key not in hidden}


def _rows(session: Session, model: Any, ids: list[uuid.UUID], order: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        out.extend(row_dict(r) for r in session.scalars(
            select(model).where(model.id.in_(ids[start:start + 500])).order_by(order)))
    return out


def _audit_about(session: Session, subject: Subject) -> list[dict[str, Any]]:
    clauses = []
    for subject_type, ids in (("customer", subject.customer_ids),
                              ("conversation", subject.conversation_ids),
                              ("message", subject.message_ids)):
        for start in range(0, len(ids), 500):
            clauses.append(and_(AuditEvent.subject_type == subject_type,
                                AuditEvent.subject_id.in_([str(i) for i in
                                                           ids[start:start + 500]])))
    if not clauses:
        return []
    return [row_dict(r) for r in session.scalars(select(AuditEvent).where(
        AuditEvent.workspace_id == subject.workspace_id, or_(*clauses))
        .order_by(AuditEvent.id))]


def _detail_requests(session: Session, subject: Subject) -> list[dict[str, Any]]:
    """What he gave on secure forms (decrypted: it is his)."""
    ids = subject.conversation_ids
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        out.extend(row_dict(r) for r in session.scalars(
            select(DetailRequest).where(DetailRequest.conversation_id.in_(ids[start:start + 500]))
            .order_by(DetailRequest.created_at)))
    return out


def _csat_surveys(session: Session, subject: Subject) -> list[dict[str, Any]]:
    ids = csat_survey_ids(session, subject)
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        out.extend({key: _json(value) for key, value in row.items()} for row in session.execute(
            select(*CSAT_EXPORTED).where(CSAT_SURVEYS.c.id.in_(ids[start:start + 500]))
            .order_by(CSAT_SURVEYS.c.sent_at)).mappings())
    return out


def export_customer(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID,
                    actor: Actor) -> dict[str, Any]:
    """Everything about the customer, as one JSON-ready document (article 15 and 20)."""
    subject = collect(session, workspace_id, customer_id)
    customers = _rows(session, Customer, subject.customer_ids, Customer.created_at)
    archive: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": utcnow().isoformat(),
        "workspace_id": str(workspace_id),
        "customer": next(c for c in customers if c["id"] == str(subject.customer_id)),
        "merged_customers": [c for c in customers if c["id"] != str(subject.customer_id)],
        "identities": _rows(session, Identity, subject.identity_ids, Identity.linked_at),
        "consents": _rows(session, Consent, subject.consent_ids, Consent.granted_at),
        "conversations": _rows(session, Conversation, subject.conversation_ids,
                               Conversation.created_at),
        "messages": _rows(session, Message, subject.message_ids, Message.created_at),
        "hops": _rows(session, Hop, subject.hop_ids, Hop.created_at),
        "short_links": _rows(session, ShortLink, subject.link_ids, ShortLink.created_at),
        "callbacks": _rows(session, Callback, subject.callback_ids, Callback.created_at),
        "detail_requests": _detail_requests(session, subject),
        "merges": _rows(session, CustomerMerge, subject.merge_ids, CustomerMerge.created_at),
        "merge_suggestions": _rows(session, MergeSuggestion, subject.suggestion_ids,
                                   MergeSuggestion.created_at),
        "csat_surveys": _csat_surveys(session, subject),
        "audit_events": _audit_about(session, subject),
    }
    audit(session, workspace_id, EXPORTED_ACTION, "customer", subject.customer_id,
          actor_type=actor.type, actor_id=actor.id,
          data={"customers": len(subject.customer_ids),
                "messages": len(subject.message_ids)})
    return archive


def check_confirmation(customer: Customer, typed: str) -> None:
    """The desktop asks for the customer's name (or the word ERASE) before erasing."""
    typed = typed.strip()
    if not typed or (typed != CONFIRM_WORD and typed != (customer.name or "").strip()):
        raise ValidationFailed(f"type the customer's name or {CONFIRM_WORD} to confirm",
                               code="confirmation_mismatch")


def erase_customer(session: Session, workspace_id: uuid.UUID, customer_id: uuid.UUID,
                   actor: Actor) -> ErasureReport:
    """Anonymise the customer across every table (article 17); see erasers.ERASERS.

    Idempotent: erasing again finds what arrived since (nothing, usually) and erases it.
    """
    workspace_lock(session, workspace_id)  # no batch threads his messages meanwhile
    subject = collect(session, workspace_id, customer_id)
    erasure = Erasure(subject=subject, salt=secrets.token_bytes(32))
    for eraser in ERASERS:
        if eraser.run is not None:
            erasure.counts[eraser.table] = eraser.run(session, erasure)
    session.flush()
    audit(session, workspace_id, ERASED_ACTION, "customer", subject.customer_id,
          actor_type=actor.type, actor_id=actor.id,
          data={"requested": str(customer_id),
                "customers": [str(c) for c in subject.customer_ids],
                "counts": erasure.counts})
    publish(session, workspace_id, ERASED_ACTION, {"customer_id": str(subject.customer_id)})
    enqueue(session, COMPACT_JOB, {}, workspace_id=workspace_id)
    return ErasureReport(customer_id=subject.customer_id, customers=subject.customer_ids,
                         erased_at=erasure.now, counts=erasure.counts)


def erased_at(session: Session, workspace_id: uuid.UUID,
              customer_id: uuid.UUID) -> datetime | None:
    """When the customer was erased (None: never)."""
    at: datetime | None = session.scalar(select(AuditEvent.created_at).where(
        AuditEvent.workspace_id == workspace_id, AuditEvent.action == ERASED_ACTION,
        AuditEvent.subject_type == "customer", AuditEvent.subject_id == str(customer_id))
        .order_by(AuditEvent.id.desc()).limit(1))
    return at
