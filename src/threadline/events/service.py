"""Writing durable work: raw inbound events, outbox jobs, stream events and audit records.

Every function takes a session and never commits: the caller's transaction makes the change
and its side effects durable together (the outbox pattern).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from threadline.db.base import utcnow
from threadline.events.models import AuditEvent, InboundEvent, OutboxJob, StreamEvent
from threadline.logs import current_request_id

WAKE_TOPIC = "threadline:wake"


def _table(model: Any) -> Table:
    t: Table = model.__table__
    return t


def stream_topic(workspace_id: uuid.UUID | str) -> str:
    return f"threadline:stream:{workspace_id}"


def _pending_topics(session: Session) -> set[str]:
    topics: set[str] = session.info.setdefault("bus_topics", set())
    return topics


def notify_after_commit(session: Session, topic: str) -> None:
    """Ask for a bus wake-up on `topic` once this transaction commits (see events.bus)."""
    _pending_topics(session).add(topic)


def store_inbound(session: Session, *, workspace_id: uuid.UUID, channel_account_id: uuid.UUID,
                  events: Sequence[tuple[str, dict[str, Any]]]) -> int:
    """Store raw provider events idempotently; returns how many were new.

    Unique on (channel account, provider event id): a redelivery changes nothing.
    """
    if not events:
        return 0
    now = utcnow()
    request_id = current_request_id()  # the worker's log lines for them carry it too
    rows = [{"workspace_id": workspace_id, "channel_account_id": channel_account_id,
             "provider_event_id": event_id, "payload": payload, "received_at": now,
             "status": "pending", "attempts": 0, "next_attempt_at": now,
             "request_id": request_id}
            for event_id, payload in events]
    table: Table = InboundEvent.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = pg_insert(table).on_conflict_do_nothing(
            index_elements=["channel_account_id", "provider_event_id"])
    else:
        stmt = sqlite_insert(table).on_conflict_do_nothing(
            index_elements=["channel_account_id", "provider_event_id"])
    result: Any = session.execute(stmt, rows)
    count = int(result.rowcount) if result.rowcount is not None else len(rows)
    notify_after_commit(session, WAKE_TOPIC)
    return max(count, 0)


def enqueue(session: Session, name: str, payload: dict[str, Any], *,
            workspace_id: uuid.UUID | None = None, due_at: datetime | None = None,
            delay: timedelta | None = None) -> OutboxJob:
    """Add a side effect or a timer to the outbox, in the caller's transaction. It keeps the
    id of the request (or of the job's request) that enqueues it, for the logs."""
    when = due_at or (utcnow() + delay if delay else utcnow())
    job = OutboxJob(workspace_id=workspace_id, name=name, payload=payload, due_at=when,
                    status="pending", attempts=0, request_id=current_request_id())
    session.add(job)
    notify_after_commit(session, WAKE_TOPIC)
    return job


def publish(session: Session, workspace_id: uuid.UUID, name: str,
            payload: dict[str, Any]) -> None:
    """A real-time event for the desktops, durable with the change (SSE replays it)."""
    session.execute(_table(StreamEvent).insert(), [{"workspace_id": workspace_id, "name": name,
                                                    "payload": payload, "created_at": utcnow()}])
    notify_after_commit(session, stream_topic(workspace_id))


def publish_many(session: Session, rows: Iterable[tuple[uuid.UUID, str, dict[str, Any]]]) -> None:
    now = utcnow()
    rows_list = list(rows)
    values = [{"workspace_id": ws, "name": name, "payload": payload, "created_at": now}
              for ws, name, payload in rows_list]
    if values:
        session.execute(_table(StreamEvent).insert(), values)
        for ws, _name, _payload in rows_list:
            notify_after_commit(session, stream_topic(ws))


def audit(session: Session, workspace_id: uuid.UUID, action: str, subject_type: str,
          subject_id: uuid.UUID | str, *, actor_type: str = "system", actor_id: str | None = None,
          data: dict[str, Any] | None = None) -> None:
    audit_many(session, [{"workspace_id": workspace_id, "action": action,
                          "subject_type": subject_type, "subject_id": str(subject_id),
                          "actor_type": actor_type, "actor_id": actor_id, "data": data or {}}])


def audit_many(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("data", {})
        row.setdefault("actor_id", None)
    session.execute(_table(AuditEvent).insert(), rows)


def stream_after(session: Session, workspace_id: uuid.UUID, after_id: int,
                 limit: int = 500) -> list[StreamEvent]:
    stmt = (select(StreamEvent).where(StreamEvent.workspace_id == workspace_id,
                                      StreamEvent.id > after_id)
            .order_by(StreamEvent.id).limit(limit))
    return list(session.scalars(stmt))


def latest_stream_id(session: Session, workspace_id: uuid.UUID) -> int:
    stmt = (select(StreamEvent.id).where(StreamEvent.workspace_id == workspace_id)
            .order_by(StreamEvent.id.desc()).limit(1))
    return int(session.scalar(stmt) or 0)


def work_counts(session: Session) -> dict[str, dict[str, int]]:
    """Inbound events and outbox jobs by status (the metrics' queue gauges)."""
    out: dict[str, dict[str, int]] = {}
    for table, label in ((InboundEvent, "inbound"), (OutboxJob, "outbox")):
        out[label] = {status: count for status, count in session.execute(
            select(table.status, func.count()).group_by(table.status))}
    return out
