"""The worker loop: claims inbound events and outbox jobs, runs them, retries with backoff,
and dead-letters what keeps failing (with the reason, retryable through the API).

Inbound events are processed in batches inside one transaction together with marking them
done, so an event's effects and its "done" mark commit atomically: exactly once, even if the
process is killed at any point. On SQLite the writer lock (BEGIN IMMEDIATE) serialises workers.
On PostgreSQL any number of workers share the queue, one workspace's events too (decision
0334): a short claim transaction (claims take turns) leases the oldest waiting events whose
keys — the messages, identities and private threads they touch — no running batch and no
earlier waiting event holds, and records their keys; the batch then runs them in its own
transaction. Each customer's events run in order; a lease left by a killed worker expires.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta

from sqlalchemy import Text, bindparam, cast, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from threadline import logs
from threadline.db.base import utcnow
from threadline.db.locks import key_hash
from threadline.events.models import InboundEvent, OutboxJob, WorkStatus
from threadline.events.service import WAKE_TOPIC
from threadline.jobs.bus import PersistentWaiter
from threadline.jobs.registry import (
    ClaimedEvent,
    InboundProcessor,
    Job,
    JobGroupRunner,
    PermanentFailure,
    RetryLater,
    get_group_runner,
    get_handler,
    get_inbound_keys,
    get_inbound_processor,
)
from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.worker")

CLAIM_LOCK = 7_305_842_113  # claims take turns (a transaction-level advisory lock)
MAX_BACKOFF_SECONDS = 30.0  # between failed rounds (the database away)
FAILURE_REPORT_SECONDS = 60.0  # one log line a minute while rounds keep failing


def backoff_seconds(runtime: Runtime, attempts: int) -> float:
    base = runtime.settings.retry_base_seconds
    return float(min(runtime.settings.retry_max_seconds, base * (2 ** max(attempts - 1, 0))))


def batch_context(events: Sequence[ClaimedEvent]) -> AbstractContextManager[logs.LogContext]:
    """The log context of a batch: the request id and workspace its events share, if any (jobs
    enqueued while processing it inherit that request id)."""
    requests = {e.request_id for e in events}
    workspaces = {e.workspace_id for e in events}
    return logs.context(request_id=requests.pop() if len(requests) == 1 else None,
                        event_id=events[0].id if len(events) == 1 else None,
                        workspace_id=workspaces.pop() if len(workspaces) == 1 else None)


def describe(exc: BaseException) -> str:
    """A short reason for the dead-letter list: type and message, no payload data."""
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:2000]


def _kind(exc: BaseException) -> str:
    """The kind of a failure for a log line: type names only (a database error's message
    carries its statement and parameters, which may hold personal data)."""
    orig = getattr(exc, "orig", None)
    return f"{type(exc).__name__} ({type(orig).__name__})" if orig is not None else (
        type(exc).__name__)


# jobs run between two looks for inbound events (see Worker.run_once)
JOBS_BETWEEN_INBOUND = 10


def _mark_jobs_done(session: Session, jobs: Sequence[Job]) -> None:
    session.execute(update(OutboxJob).where(OutboxJob.id.in_([job.id for job in jobs])).values(
        status=WorkStatus.DONE, done_at=utcnow(), claimed_until=None, last_error=None))


def _consecutive(jobs: Sequence[Job]) -> list[list[Job]]:
    """The jobs cut into runs of one name and one workspace, in their order."""
    groups: list[list[Job]] = []
    for job in jobs:
        if groups and groups[-1][0].name == job.name \
                and str(groups[-1][0].workspace_id) == str(job.workspace_id):
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


class Worker:
    def __init__(self, runtime: Runtime, *, name: str = "worker") -> None:
        self.runtime = runtime
        self.name = name

    # --- inbound ---------------------------------------------------------------------------

    def _claim_inbound(self, session: Session, limit: int) -> list[ClaimedEvent]:
        """The oldest pending events, in order, up to `limit` of them and as many as fit in
        `worker_batch_bytes` of payload (always at least one): a batch is one transaction, so
        a few huge events (a flood of the longest messages a channel takes) are processed a
        few at a time and an ordinary message behind them waits for little."""
        now = utcnow()
        due = (InboundEvent.status == WorkStatus.PENDING, InboundEvent.next_attempt_at <= now,
               (InboundEvent.claimed_until.is_(None)) | (InboundEvent.claimed_until < now))
        sizes = session.execute(
            select(InboundEvent.id, func.length(cast(InboundEvent.payload, Text)))
            .where(*due).order_by(InboundEvent.id).limit(limit)).all()
        ids: list[int] = []
        total = 0
        for event_id, size in sizes:
            total += int(size or 0)
            if ids and total > self.runtime.settings.worker_batch_bytes:
                break
            ids.append(event_id)
        if not ids:
            return []
        stmt = (select(InboundEvent.id, InboundEvent.workspace_id,
                       InboundEvent.channel_account_id, InboundEvent.provider_event_id,
                       InboundEvent.payload, InboundEvent.attempts, InboundEvent.request_id)
                .where(InboundEvent.id.in_(ids), *due).order_by(InboundEvent.id))
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [ClaimedEvent(*row) for row in session.execute(stmt)]

    def _lease_inbound(self, limit: int) -> list[int]:
        """Lease the events a batch may run now and return their ids (PostgreSQL; SQLite runs
        one batch at a time and claims inside it). The lease is a transaction of its own,
        claims taking turns. An event is leased when no running batch's event and no earlier
        waiting event shares a key with it; every event considered and left blocks its keys
        for the rest of the claim, so a customer's later event never runs before his
        earlier one."""
        keys_of = get_inbound_keys()
        now = utcnow()
        with self.runtime.db.session() as session:
            if self.runtime.db.dialect == "postgresql":  # SQLite: the writer lock
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CLAIM_LOCK})
            window = self._claim_inbound(session, limit)
            if not window:
                return []
            blocked: set[int] = set()
            for row in session.execute(select(InboundEvent.claim_keys).where(
                    InboundEvent.status == WorkStatus.PENDING,
                    InboundEvent.claimed_until >= now)):
                blocked.update(int(k) for k in row[0] or ())
            names = keys_of(session, window) if keys_of else {}
            lease = now + timedelta(seconds=self.runtime.settings.worker_lease_seconds)
            leased: list[dict[str, object]] = []
            for ev in window:
                keys = {key_hash(ev.workspace_id, n) for n in names.get(ev.id) or ()}
                keys.add(key_hash(ev.workspace_id, f"e:{ev.id}"))
                if keys & blocked:
                    blocked |= keys
                    continue
                leased.append({"_id": ev.id, "_keys": sorted(keys)})
            for item in leased:
                blocked.update(item["_keys"])  # type: ignore[arg-type]
            if leased:
                table = InboundEvent.__table__
                session.execute(
                    table.update().where(table.c.id == bindparam("_id")).values(  # type: ignore[attr-defined]
                        claimed_until=lease, claim_keys=bindparam("_keys")), leased)
            return [int(item["_id"]) for item in leased]  # type: ignore[call-overload]

    def _leased(self, session: Session, ids: list[int]) -> list[ClaimedEvent]:
        stmt = (select(InboundEvent.id, InboundEvent.workspace_id,
                       InboundEvent.channel_account_id, InboundEvent.provider_event_id,
                       InboundEvent.payload, InboundEvent.attempts, InboundEvent.request_id)
                .where(InboundEvent.id.in_(ids), InboundEvent.status == WorkStatus.PENDING)
                .order_by(InboundEvent.id).with_for_update())
        return [ClaimedEvent(*row) for row in session.execute(stmt)]

    def process_inbound_batch(self, limit: int | None = None) -> int:
        """Claim up to `limit` pending events and process them; returns how many were taken."""
        processor = get_inbound_processor()
        if processor is None:
            raise RuntimeError("no inbound processor registered (call threadline.handlers.install)")
        limit = limit or self.runtime.settings.worker_batch_size
        leased = self.runtime.db.dialect == "postgresql" and get_inbound_keys() is not None
        ids = self._lease_inbound(limit) if leased else []
        if leased and not ids:
            return 0
        with self.runtime.db.session() as session:
            events = self._leased(session, ids) if leased else self._claim_inbound(session, limit)
            if not events:
                return 0
            done = self._process_claimed(processor, session, events)
        for ev in done:  # committed
            with batch_context([ev]):
                log.info("inbound event %s processed", ev.id)
        return len(events)

    def _process_claimed(self, processor: InboundProcessor, session: Session,
                         events: list[ClaimedEvent]) -> list[ClaimedEvent]:
        """Process the batch, or its events one by one if it fails; returns those done."""
        try:
            with batch_context(events), session.begin_nested():
                processor(self.runtime, session, events)
            self._mark_done(session, events)
            return events
        except Exception:
            log.info("batch of %d failed; processing one by one", len(events))
        done: list[ClaimedEvent] = []
        for ev in events:
            with batch_context([ev]):
                try:
                    with session.begin_nested():
                        processor(self.runtime, session, [ev])
                    self._mark_done(session, [ev])
                    done.append(ev)
                except Exception as exc:
                    self._mark_failed(session, ev, exc)
        return done

    def _mark_done(self, session: Session, events: Sequence[ClaimedEvent]) -> None:
        now = utcnow()
        table = InboundEvent.__table__
        session.execute(
            table.update().where(table.c.id == bindparam("_id")).values(  # type: ignore[attr-defined]
                status=WorkStatus.DONE, processed_at=now, last_error=None,
                attempts=bindparam("_attempts"), claimed_until=None, claim_keys=None),
            [{"_id": e.id, "_attempts": e.attempts + 1} for e in events])

    def _mark_failed(self, session: Session, ev: ClaimedEvent, exc: BaseException) -> None:
        attempts = ev.attempts + 1
        reason = describe(exc)
        dead = isinstance(exc, PermanentFailure) or getattr(exc, "permanent", False) or (
            attempts >= self.runtime.settings.max_attempts)
        delay = exc.seconds if isinstance(exc, RetryLater) and exc.seconds else (
            backoff_seconds(self.runtime, attempts))
        values = {"attempts": attempts, "last_error": reason,
                  "status": WorkStatus.DEAD if dead else WorkStatus.PENDING,
                  "next_attempt_at": utcnow() + timedelta(seconds=delay),
                  "claimed_until": None, "claim_keys": None}
        session.execute(update(InboundEvent).where(InboundEvent.id == ev.id).values(**values))
        if dead:
            log.warning("inbound event %s dead-lettered: %s", ev.id, type(exc).__name__)
        if not isinstance(exc, RetryLater | PermanentFailure):
            log.debug("inbound event %s failed:\n%s", ev.id, traceback.format_exc())

    # --- outbox ----------------------------------------------------------------------------

    def _claim_jobs(self, limit: int) -> list[Job]:
        now = utcnow()
        lease = now + timedelta(seconds=self.runtime.settings.worker_lease_seconds)
        with self.runtime.db.session() as session:
            stmt = (select(OutboxJob)
                    .where(OutboxJob.status == WorkStatus.PENDING, OutboxJob.due_at <= now,
                           (OutboxJob.claimed_until.is_(None)) | (OutboxJob.claimed_until < now))
                    .order_by(OutboxJob.due_at, OutboxJob.id).limit(limit))
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(session.scalars(stmt))
            for row in rows:
                row.claimed_until = lease
                row.attempts += 1
            return [Job(id=r.id, name=r.name, payload=dict(r.payload), attempts=r.attempts,
                        workspace_id=r.workspace_id, request_id=r.request_id) for r in rows]

    def process_jobs(self, limit: int = 50) -> int:
        """Run the claimed jobs in order. Consecutive jobs of one name and one workspace
        whose name has a group runner (a conversation's changes: `conversation.event`) run
        together in one transaction that also marks them done — one commit and one lock
        for the group instead of two commits a job; if the group fails, each runs alone."""
        jobs = self._claim_jobs(limit)
        for group in _consecutive(jobs):
            runner = get_group_runner(group[0].name)
            if runner is not None and self._run_group(runner, group):
                continue
            for job in group:
                self.run_job(job)
        return len(jobs)

    def _run_group(self, runner: JobGroupRunner, jobs: Sequence[Job]) -> bool:
        """True when the group ran and is marked done, or when its only job failed and was
        handled; False: run each job alone."""
        first = jobs[0]
        with logs.context(request_id=first.request_id, job_id=first.id,
                          workspace_id=first.workspace_id):
            try:
                with self.runtime.db.session() as session:
                    runner(self.runtime, session, jobs)
                    _mark_jobs_done(session, jobs)
            except Exception as exc:
                if len(jobs) > 1:
                    log.info("a group of %d %s jobs failed (%s); each runs alone", len(jobs),
                             first.name, type(exc).__name__)
                    return False
                self._job_failed(first, exc)
                return True
        for job in jobs:
            log.info("job %s (%s) done", job.id, job.name)
        return True

    def run_job(self, job: Job) -> None:
        """Run one claimed job; its log lines (and the jobs it enqueues) carry its request id."""
        with logs.context(request_id=job.request_id, job_id=job.id,
                          workspace_id=job.workspace_id):
            self._run_job(job)

    def _run_job(self, job: Job) -> None:
        fn = get_handler(job.name)
        try:
            if fn is None:
                raise PermanentFailure(f"no handler for job {job.name!r}")
            fn(self.runtime, job)
        except Exception as exc:
            self._job_failed(job, exc)
            return
        with self.runtime.db.session() as session:
            _mark_jobs_done(session, [job])
        log.info("job %s (%s) done", job.id, job.name)

    def _job_failed(self, job: Job, exc: BaseException) -> None:
        dead = isinstance(exc, PermanentFailure) or (
            job.attempts >= self.runtime.settings.max_attempts)
        delay = exc.seconds if isinstance(exc, RetryLater) and exc.seconds is not None else (
            backoff_seconds(self.runtime, job.attempts))
        if not isinstance(exc, RetryLater | PermanentFailure):
            log.warning("job %s (%s) failed: %s", job.id, job.name, type(exc).__name__)
        with self.runtime.db.session() as session:
            session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(
                status=WorkStatus.DEAD if dead else WorkStatus.PENDING,
                due_at=utcnow() + timedelta(seconds=delay), claimed_until=None,
                last_error=describe(exc)))

    # --- loop ------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Inbound first, then a few jobs: a customer's new message waits for at most
        JOBS_BETWEEN_INBOUND jobs (each change of a conversation is one, with its automation,
        routing and service-level hooks), not for a whole flood's worth of them."""
        done = self.process_inbound_batch()
        done += self.process_jobs(JOBS_BETWEEN_INBOUND)
        return done

    def drain(self, max_rounds: int = 10_000) -> int:
        """Run until no work is due now (tests, benchmarks, replay)."""
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

    def run_forever(self, stop: threading.Event) -> None:
        """Rounds until `stop`. A round that fails (the database unreachable, most often)
        is retried after 0.5, 1, 2 ... up to 30 s; the first failure is logged (with its
        traceback unless the database was unavailable), then one line a minute while it
        lasts, and one when work resumes: no error line per poll."""
        waiter = PersistentWaiter(self.runtime.bus, WAKE_TOPIC)
        failures, reported = 0, 0.0
        try:
            while not stop.is_set():
                try:
                    n = self.run_once()
                except Exception as exc:
                    failures += 1
                    unavailable = isinstance(exc, OperationalError)
                    if failures == 1:
                        log.warning("worker round failed: %s; retrying with backoff",
                                    _kind(exc), exc_info=not unavailable)
                        reported = time.monotonic()
                    elif time.monotonic() - reported >= FAILURE_REPORT_SECONDS:
                        log.warning("worker rounds still failing (%d so far): %s", failures,
                                    _kind(exc))
                        reported = time.monotonic()
                    stop.wait(min(MAX_BACKOFF_SECONDS, 0.25 * 2 ** min(failures, 7)))
                    continue
                if failures:
                    log.info("worker resumed after %d failed rounds", failures)
                    failures = 0
                if n == 0:
                    waiter.wait(self.runtime.settings.worker_poll_seconds)
        finally:
            waiter.close()
