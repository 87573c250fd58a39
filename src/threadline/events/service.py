"""Writing durable work: raw inbound events, outbox jobs, stream events and audit records.

Every function takes a session and never commits: the caller's transaction makes the change
and its side effects durable together (the outbox pattern).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from threadline.db.base import utcnow
from threadline.db.engine import Database
from threadline.db.locks import workspace_lock
from threadline.events.models import AuditEvent, InboundEvent, OutboxJob, StreamEvent
from threadline.events.names import Live
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


def ensure_pending(session: Session, name: str, *, delay: timedelta = timedelta(0),
                   exclude: int | None = None) -> OutboxJob | None:
    """Make sure one job `name` (a periodic scan) is pending, `delay` from now unless one is
    already: a run being executed (claimed, `exclude`: the caller's own) does not count."""
    now = utcnow()
    stmt = select(OutboxJob.id).where(
        OutboxJob.name == name, OutboxJob.status == "pending",
        OutboxJob.claimed_until.is_(None) | (OutboxJob.claimed_until < now))
    if exclude is not None:
        stmt = stmt.where(OutboxJob.id != exclude)
    if session.scalars(stmt.limit(1)).first() is not None:
        return None
    return enqueue(session, name, {}, due_at=now + delay)


# --- conversation events: what the operations layer reacts to ----------------------------


class ConversationEvent:
    """What happened to a conversation, for the operations layer (automation, routing,
    service levels: `jobs/hooks.py` runs them). Each change enqueues one durable job
    `conversation.event` in the transaction that made it."""

    CREATED = "conversation.created"
    MESSAGE_RECEIVED = "message.received"  # data: message_id
    REOPENED = "conversation.reopened"
    STATUS_CHANGED = "conversation.status_changed"  # data: from, to
    ASSIGNED = "conversation.assigned"  # data: assignee_id, team_id
    REPLIED = "message.replied"  # an agent's or automation's message; data: message_id
    UPDATED = "conversation.updated"  # priority, category, language, labels; data: fields
    SLA_WARNING = "sla.warning"  # data: clock
    SLA_BREACH = "sla.breach"  # data: clock
    # the brand's message sent outside Threadline (seen on the channel); data: message_id
    MESSAGE_ECHOED = "message.echoed"
    MESSAGE_EDITED = "message.edited"  # a call record's outcome arrived; data: message_id
    MERGED = "conversation.merged"  # another was merged into it; data: other_id (the source)
    SPLIT = "conversation.split"  # messages moved to or from another; data: other_id
    ALL = (CREATED, MESSAGE_RECEIVED, REOPENED, STATUS_CHANGED, ASSIGNED, REPLIED, UPDATED,
           SLA_WARNING, SLA_BREACH, MESSAGE_ECHOED, MESSAGE_EDITED, MERGED, SPLIT)


CONVERSATION_EVENT_JOB = "conversation.event"
CHAIN_KEY = "automation_chain"


@contextmanager
def acting_for_rules(session: Session, chain: Sequence[str]) -> Iterator[None]:
    """Changes made inside carry `chain` (automation rule ids) on the events they cause."""
    previous = session.info.get(CHAIN_KEY, ())
    session.info[CHAIN_KEY] = tuple(dict.fromkeys([*previous, *chain]))
    try:
        yield
    finally:
        session.info[CHAIN_KEY] = previous


def conversation_events(session: Session, workspace_id: uuid.UUID,
                        batch: dict[uuid.UUID, list[dict[str, Any]]], *,
                        chain: Sequence[str] = ()) -> None:
    """Enqueue one `conversation.event` job per conversation with its events in order
    (`{"event": ConversationEvent.X, ...data}`). `chain` lists the automation rules whose
    actions caused them (a rule never fires again in its own chain); by default the chain
    the session is acting for (`acting_for_rules`)."""
    if not batch:
        return
    chain = list(dict.fromkeys([*session.info.get(CHAIN_KEY, ()), *chain]))
    now = utcnow()
    request_id = current_request_id()
    rows = [{"workspace_id": workspace_id, "name": CONVERSATION_EVENT_JOB,
             "payload": {"conversation_id": str(conv_id), "events": events,
                         "chain": chain},
             "due_at": now, "status": "pending", "attempts": 0, "request_id": request_id}
            for conv_id, events in batch.items() if events]
    if rows:
        session.execute(_table(OutboxJob).insert(), rows)
        notify_after_commit(session, WAKE_TOPIC)


def conversation_event(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                       event: str, *, chain: Sequence[str] = (), **data: Any) -> None:
    """One event of one conversation (see `conversation_events`)."""
    conversation_events(session, workspace_id, {conversation_id: [{"event": event, **data}]},
                        chain=chain)


def publish(session: Session, workspace_id: uuid.UUID, name: Live,
            payload: dict[str, Any]) -> None:
    """A real-time event for the desktops, durable with the change (SSE replays it)."""
    session.execute(_table(StreamEvent).insert(), [{"workspace_id": workspace_id, "name": name,
                                                    "payload": payload, "created_at": utcnow()}])
    notify_after_commit(session, stream_topic(workspace_id))


def publish_many(session: Session,
                 rows: Iterable[tuple[uuid.UUID, Live, dict[str, Any]]]) -> None:
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


AuditListener = Callable[[Session, list[dict[str, Any]]], None]
_audit_listeners: dict[str, AuditListener] = {}


def on_audit(name: str, fn: AuditListener) -> None:
    """Call `fn(session, rows)` with every batch of audit rows, in the transaction that
    writes them (outbound webhooks turn some into deliveries); idempotent by `name`."""
    _audit_listeners[name] = fn


def audit_many(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("data", {})
        row.setdefault("actor_id", None)
    session.execute(_table(AuditEvent).insert(), rows)
    for listener in _audit_listeners.values():
        listener(session, rows)


def sequence_stream(db: Database, workspace_id: uuid.UUID) -> int:
    """PostgreSQL: give the workspace's committed stream events that have no position yet
    their positions, in id order, in a transaction of their own; returns how many. A reader
    calls it before it reads, so it reads only positions given after the events were visible:
    an event whose transaction commits late gets a position after everything read before it,
    never one behind a reader's cursor (decision 0317). The workspace's "stream" lock makes
    the sequencers take turns: one that waited finds the events numbered and reads them. On
    SQLite positions are given at insert (one writer at a time) and this does nothing."""
    if db.dialect != "postgresql":
        return 0
    unnumbered = (StreamEvent.workspace_id == workspace_id, StreamEvent.position.is_(None))
    with db.session() as session:
        if session.scalar(select(StreamEvent.id).where(*unnumbered).limit(1)) is None:
            return 0
        workspace_lock(session, workspace_id, "stream")
        ids = list(session.scalars(select(StreamEvent.id).where(*unnumbered)
                                   .order_by(StreamEvent.id).with_for_update()))
        if not ids:
            return 0
        positions = list(session.scalars(text(
            "SELECT nextval('stream_event_positions') AS p FROM generate_series(1, :n) "
            "ORDER BY p"), {"n": len(ids)}))
        session.execute(update(StreamEvent), [{"id": i, "position": p}
                                              for i, p in zip(ids, positions, strict=True)])
        return len(ids)


def stream_after(session: Session, workspace_id: uuid.UUID, after: int,
                 limit: int = 500) -> list[StreamEvent]:
    """The workspace's events after position `after`, in position order."""
    stmt = (select(StreamEvent).where(StreamEvent.workspace_id == workspace_id,
                                      StreamEvent.position > after)
            .order_by(StreamEvent.position).limit(limit))
    return list(session.scalars(stmt))


def latest_stream_position(session: Session, workspace_id: uuid.UUID) -> int:
    """The newest position of the workspace's stream (0 when it has none)."""
    return int(session.scalar(select(func.max(StreamEvent.position)).where(
        StreamEvent.workspace_id == workspace_id)) or 0)


def work_counts(session: Session) -> dict[str, dict[str, int]]:
    """Inbound events and outbox jobs by status (the metrics' queue gauges)."""
    out: dict[str, dict[str, int]] = {}
    for table, label in ((InboundEvent, "inbound"), (OutboxJob, "outbox")):
        out[label] = {status: count for status, count in session.execute(
            select(table.status, func.count()).group_by(table.status))}
    return out
