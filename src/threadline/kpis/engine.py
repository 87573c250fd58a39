"""KPIs at work: the KPIS conversation hook (after service levels, so that the attainment it
copies is the one just recorded), the `kpis.settle` timer (first-contact resolutions whose
window has passed) and the rebuild of every conversation's facts (`threadline kpis
rebuild`, or the `kpis.rebuild` job)."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.config import Settings
from threadline.conversations.models import Conversation
from threadline.db.base import utcnow
from threadline.db.locks import workspace_lock
from threadline.events.models import OutboxJob
from threadline.events.service import ConversationEvent, enqueue, ensure_pending
from threadline.jobs.hooks import OPERATIONS_LOCK, ConversationEvents, conversation_hook
from threadline.jobs.registry import Job, handler
from threadline.kpis.models import ConversationFacts
from threadline.kpis.rules import KpiRules
from threadline.kpis.tracking import call_edited, recompute
from threadline.kpis.tracking import update as track_update

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.kpis")
KPIS = 50  # last: after service levels (jobs/hooks.py, 30) and what other stages write
SETTLE_JOB = "kpis.settle"
REBUILD_JOB = "kpis.rebuild"
REBUILD_BATCH = 200
_MESSAGE_EVENTS = frozenset({ConversationEvent.MESSAGE_RECEIVED, ConversationEvent.REPLIED,
                             ConversationEvent.MESSAGE_ECHOED})
_RECOMPUTE_ON = frozenset({ConversationEvent.MERGED, ConversationEvent.SPLIT})


def rules_of(settings: Settings) -> KpiRules:
    return KpiRules(silence=timedelta(hours=settings.kpi_silence_hours),
                    fcr_window=timedelta(days=settings.kpi_fcr_days))


def _ids(events: list[dict[str, Any]], key: str) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for event in events:
        try:
            found.add(uuid.UUID(str(event[key])))
        except (KeyError, ValueError):
            continue
    return found


@conversation_hook(KPIS, "kpis")
def track(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    """Bring the conversation's facts, episodes and segments up to date."""
    conv = session.get(Conversation, batch.conversation_id)
    if conv is None or conv.workspace_id != batch.workspace_id:
        return
    apply_events(session, conv, rules_of(runtime.settings), batch.events)


def apply_events(session: Session, conv: Conversation, rules: KpiRules,
                 events: list[dict[str, Any]], *, now: datetime | None = None) -> None:
    """What one conversation.event job does to the KPIs: a merge or a split recomputes both
    conversations; anything else folds what is new (the messages the events name are checked
    for lateness) and brings edited call records' handle time up to date."""
    recomputing = [e for e in events if e.get("event") in _RECOMPUTE_ON]
    if recomputing:
        for other in _ids(recomputing, "other_id"):  # first: a merged one hands its time over
            found = session.get(Conversation, other)
            if found is not None and found.workspace_id == conv.workspace_id:
                recompute(session, other, rules, now=now)
        recompute(session, conv.id, rules, now=now)
        return
    named = _ids([e for e in events if e.get("event") in _MESSAGE_EVENTS], "message_id")
    track_update(session, conv, rules, named=named, now=now)
    edited = [e for e in events if e.get("event") == ConversationEvent.MESSAGE_EDITED]
    for message_id in _ids(edited, "message_id"):
        call_edited(session, conv, message_id)


# --- first-contact resolution settles ---------------------------------------------------------


def settle(session: Session, rules: KpiRules, *, now: datetime | None = None) -> int:
    """Conversations resolved longer than the window ago that nobody came back on are
    first-contact resolutions. Returns how many were settled."""
    now = now or utcnow()
    result: Any = session.execute(
        update(ConversationFacts).where(
            ConversationFacts.fcr.is_(None),
            ConversationFacts.first_resolved_at < now - rules.fcr_window)
        .values(fcr=True, updated_at=now).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


def schedule_settle(session: Session, *, delay: timedelta = timedelta(0),
                    exclude: int | None = None) -> OutboxJob | None:
    """Make sure one settle job is pending (a run being executed does not count)."""
    return ensure_pending(session, SETTLE_JOB, delay=delay, exclude=exclude)


@handler(SETTLE_JOB)
def settle_job(runtime: Runtime, job: Job) -> None:
    try:
        with runtime.db.session() as session:
            settled = settle(session, rules_of(runtime.settings))
        if settled:
            log.info("first-contact resolutions settled", extra={"count": settled})
    finally:
        with runtime.db.session() as session:
            schedule_settle(session, delay=timedelta(seconds=runtime.settings.kpi_settle_seconds),
                            exclude=job.id)


# --- rebuild ----------------------------------------------------------------------------------


def rebuild(runtime: Runtime, workspace_id: uuid.UUID | None = None, *,
            batch: int = REBUILD_BATCH) -> dict[str, float]:
    """Recompute the facts of every conversation (of one workspace, or all), a batch per
    transaction under the workspace's operations lock (the KPIS hook waits meanwhile).
    Returns counts and the time it took."""
    started = time.perf_counter()
    rules = rules_of(runtime.settings)
    done = 0
    after: tuple[uuid.UUID, uuid.UUID] | None = None
    while True:
        with runtime.db.session(write=False) as session:
            stmt = select(Conversation.workspace_id, Conversation.id).order_by(
                Conversation.workspace_id, Conversation.id).limit(batch)
            if workspace_id is not None:
                stmt = stmt.where(Conversation.workspace_id == workspace_id)
            if after is not None:
                stmt = stmt.where((Conversation.workspace_id > after[0]) | (
                    (Conversation.workspace_id == after[0]) & (Conversation.id > after[1])))
            rows = [(row[0], row[1]) for row in session.execute(stmt)]
        if not rows:
            break
        by_workspace: dict[uuid.UUID, list[uuid.UUID]] = {}
        for ws, conv in rows:
            by_workspace.setdefault(ws, []).append(conv)
        for ws, ids in by_workspace.items():
            with runtime.db.session() as session:
                workspace_lock(session, ws, OPERATIONS_LOCK)
                for conv_id in ids:
                    recompute(session, conv_id, rules)
        done += len(rows)
        after = rows[-1]
    with runtime.db.session() as session:
        settled = settle(session, rules)
    return {"conversations": done, "settled": settled,
            "seconds": round(time.perf_counter() - started, 3)}


def request_rebuild(session: Session, workspace_id: uuid.UUID | None = None) -> OutboxJob:
    """Rebuild (one workspace's, or every) conversation's facts in a worker once this
    transaction commits."""
    return enqueue(session, REBUILD_JOB, {}, workspace_id=workspace_id)


@handler(REBUILD_JOB)
def rebuild_job(runtime: Runtime, job: Job) -> None:
    workspace_id = uuid.UUID(str(job.workspace_id)) if job.workspace_id else None
    counts = rebuild(runtime, workspace_id)
    log.info("KPI facts rebuilt", extra={"conversations": counts["conversations"]})
