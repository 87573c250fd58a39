"""The dead-letter list: inbound events and outbox jobs that kept failing, with the reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.db.base import utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.models import InboundEvent, OutboxJob, WorkStatus
from threadline.events.service import WAKE_TOPIC, audit, notify_after_commit


@dataclass(frozen=True)
class DeadLetter:
    kind: str  # inbound | job
    id: int
    name: str  # provider event id, or job name
    attempts: int
    reason: str | None
    at: datetime


def list_dead(session: Session, workspace_id: uuid.UUID, limit: int = 100) -> list[DeadLetter]:
    inbound = session.scalars(select(InboundEvent).where(
        InboundEvent.workspace_id == workspace_id, InboundEvent.status == WorkStatus.DEAD)
        .order_by(InboundEvent.id.desc()).limit(limit))
    jobs = session.scalars(select(OutboxJob).where(
        OutboxJob.workspace_id == workspace_id, OutboxJob.status == WorkStatus.DEAD)
        .order_by(OutboxJob.id.desc()).limit(limit))
    out = [DeadLetter("inbound", e.id, e.provider_event_id, e.attempts, e.last_error,
                      e.next_attempt_at) for e in inbound]
    out += [DeadLetter("job", j.id, j.name, j.attempts, j.last_error, j.due_at) for j in jobs]
    return out


def retry_dead(session: Session, workspace_id: uuid.UUID, kind: str, item_id: int,
               actor_id: str | None = None) -> None:
    """Put a dead item back in the queue with a fresh attempt count."""
    now = utcnow()
    if kind == "inbound":
        ev = session.get(InboundEvent, item_id)
        if ev is None or ev.workspace_id != workspace_id:
            raise NotFound("dead letter not found")
        if ev.status != WorkStatus.DEAD:
            raise ValidationFailed("only dead items can be retried", code="not_dead")
        ev.status, ev.attempts, ev.next_attempt_at = WorkStatus.PENDING, 0, now
    elif kind == "job":
        job = session.get(OutboxJob, item_id)
        if job is None or job.workspace_id != workspace_id:
            raise NotFound("dead letter not found")
        if job.status != WorkStatus.DEAD:
            raise ValidationFailed("only dead items can be retried", code="not_dead")
        job.status, job.attempts, job.due_at, job.claimed_until = WorkStatus.PENDING, 0, now, None
    else:
        raise NotFound("dead letter kind must be inbound or job")
    audit(session, workspace_id, "dead_letter.retried", kind, str(item_id),
          actor_type="token", actor_id=actor_id)
    notify_after_commit(session, WAKE_TOPIC)
