"""How long raw provider payloads are kept (docs/decisions/0104-secrets-at-rest.md).

A raw inbound event keeps its payload while it may still be processed. Once processed, the
payload is scrubbed of card data in the transaction that marks it done (inbound/process.py
through `rewrite_payloads`), and THREADLINE_RAW_PAYLOAD_RETENTION_DAYS after it arrived the
`inbound.purge` job empties it (done and dead-lettered events alike). The row stays with its
(account, provider event id), so a late duplicate delivery is still rejected on insert.

The job reschedules itself every hour; `schedule_purge` starts the chain (serve, worker).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from threadline.config import Settings
from threadline.db.base import utcnow
from threadline.events.models import InboundEvent, OutboxJob, WorkStatus
from threadline.events.service import ensure_pending
from threadline.jobs.registry import Job, handler
from threadline.jobs.runtime import Runtime

PURGE_JOB = "inbound.purge"
PURGE_EVERY = timedelta(hours=1)
CHUNK = 1000


def rewrite_payloads(session: Session, payloads: dict[int, dict[str, Any]]) -> None:
    """Replace the stored payloads of these inbound events (ids -> new payload)."""
    if not payloads:
        return
    table: Table = InboundEvent.__table__  # type: ignore[assignment]
    session.execute(table.update().where(table.c.id == bindparam("_id"))
                    .values(payload=bindparam("_payload")),
                    [{"_id": i, "_payload": p} for i, p in payloads.items()])


def purge_raw_payloads(session: Session, settings: Settings, limit: int = CHUNK) -> int:
    """Empty the payloads of up to `limit` finished events older than the retention."""
    now = utcnow()
    cutoff = now - timedelta(days=settings.raw_payload_retention_days)
    ids = list(session.scalars(
        select(InboundEvent.id)
        .where(InboundEvent.purged_at.is_(None), InboundEvent.received_at <= cutoff,
               InboundEvent.status.in_((WorkStatus.DONE, WorkStatus.DEAD)))
        .order_by(InboundEvent.id).limit(limit)))
    if ids:
        session.execute(update(InboundEvent).where(InboundEvent.id.in_(ids))
                        .values(payload={}, purged_at=now))
    return len(ids)


def schedule_purge(session: Session, *, delay: timedelta = timedelta(0),
                   exclude: int | None = None) -> OutboxJob | None:
    """Make sure one purge job is pending (a run being executed does not count)."""
    return ensure_pending(session, PURGE_JOB, delay=delay, exclude=exclude)


@handler(PURGE_JOB)
def purge_job(runtime: Runtime, job: Job) -> None:
    while True:
        with runtime.db.session() as session:
            if purge_raw_payloads(session, runtime.settings) < CHUNK:
                schedule_purge(session, delay=PURGE_EVERY, exclude=job.id)
                return
