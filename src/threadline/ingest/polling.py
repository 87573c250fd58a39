"""The poller: inbound for accounts whose provider is pulled (IMAP email, X mentions).

One self-rescheduling outbox timer job per polling account (`channel.poll`, payload
`{"account_id"}`). A run asks the adapter for events since `ChannelAccount.poll_cursor`,
stores them with `ingest.service.store` exactly like a webhook (same idempotency keys, so a tweet
seen by webhook and by the poller is stored once), saves the new cursor and enqueues the next
run, all in one transaction: a crash before the commit polls again from the old cursor, which
stores nothing twice.

Which accounts poll: email always (it has no webhook); other polling adapters (X mentions)
when their config says `"poll": true`. `poll_interval_seconds` sets the pace. Errors: a
retryable poll error (server down, 429) reschedules with backoff (or the provider's
Retry-After); a permanent one (bad credentials) dead-letters the job with the reason, visible
and retryable through the dead-letter API.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    ChannelError,
    PollingAdapter,
    ProviderEvent,
    RetryableSendError,
)
from threadline.channels.registry import get_adapter
from threadline.db.base import utcnow
from threadline.events.models import OutboxJob, WorkStatus
from threadline.events.service import audit, enqueue
from threadline.ingest.service import store
from threadline.jobs.registry import Job, PermanentFailure, handler
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import ChannelAccount

POLL_JOB = "channel.poll"
DEFAULT_INTERVAL = {"email": 60.0, "x": 120.0}
MIN_INTERVAL = 1.0
MAX_BACKOFF = 3600.0


def polls(account: ChannelAccount) -> bool:
    """Whether this account's inbound is polled."""
    try:
        adapter = get_adapter(account.kind)
    except ChannelError:
        return False
    if not account.active or not isinstance(adapter, PollingAdapter):
        return False
    return bool((account.config or {}).get("poll", account.kind == "email"))


def interval(account: ChannelAccount) -> float:
    value = (account.config or {}).get("poll_interval_seconds")
    try:
        seconds = float(value) if value is not None else DEFAULT_INTERVAL.get(account.kind, 60.0)
    except (TypeError, ValueError):
        seconds = DEFAULT_INTERVAL.get(account.kind, 60.0)
    return max(seconds, MIN_INTERVAL)


def _pending_job(session: Session, account_id: uuid.UUID,
                 exclude: int | None = None) -> OutboxJob | None:
    # A job being run right now (claimed) is not counted: it schedules its successor only
    # when no other poll is pending, so chains of polls collapse into one.
    now = utcnow()
    stmt = select(OutboxJob).where(OutboxJob.name == POLL_JOB,
                                   OutboxJob.status == WorkStatus.PENDING,
                                   OutboxJob.claimed_until.is_(None)
                                   | (OutboxJob.claimed_until < now),
                                   OutboxJob.payload["account_id"].as_string() == str(account_id))
    if exclude is not None:
        stmt = stmt.where(OutboxJob.id != exclude)
    return session.scalars(stmt.order_by(OutboxJob.id).limit(1)).first()


def schedule_poll(session: Session, account: ChannelAccount, *,
                  delay: float = 0.0, exclude: int | None = None,
                  failures: int = 0) -> OutboxJob | None:
    """Make sure one poll job is pending for `account`, due within `delay` seconds."""
    if not polls(account):
        return None
    due = utcnow() + timedelta(seconds=delay)
    job = _pending_job(session, account.id, exclude)
    if job is not None:
        if job.due_at > due:
            job.due_at = due
        return job
    return enqueue(session, POLL_JOB, {"account_id": str(account.id), "failures": failures},
                   workspace_id=account.workspace_id, due_at=due)


def ensure_pollers(session: Session, workspace_id: uuid.UUID | None = None) -> int:
    """Schedule a poll for every polling account that has none pending (startup, tests)."""
    stmt = select(ChannelAccount).where(ChannelAccount.active.is_(True))
    if workspace_id is not None:
        stmt = stmt.where(ChannelAccount.workspace_id == workspace_id)
    count = 0
    for account in session.scalars(stmt):
        if polls(account) and _pending_job(session, account.id) is None:
            schedule_poll(session, account)
            count += 1
    return count


def _retry_delay(account: ChannelAccount, failures: int, retry_after: float | None) -> float:
    if retry_after is not None and retry_after > 0:
        return min(retry_after, MAX_BACKOFF)
    return float(min(interval(account) * (2 ** min(failures, 12)), MAX_BACKOFF))


def _classify(exc: ChannelError) -> tuple[bool, float | None]:
    """(retryable, retry_after) of any poll error: PollError, ImapError, send errors."""
    retry_after = getattr(exc, "retry_after", None)
    retryable = getattr(exc, "retryable", isinstance(exc, RetryableSendError))
    return bool(retryable), float(retry_after) if retry_after is not None else None


@handler(POLL_JOB)
def poll_account(runtime: Runtime, job: Job) -> None:
    account_id = uuid.UUID(str(job.payload["account_id"]))
    failures = int(job.payload.get("failures") or 0)
    with runtime.db.session(write=False) as session:
        account = session.get(ChannelAccount, account_id)
        if account is None or not polls(account):
            return  # deleted, deactivated or switched to webhooks: the chain ends here
        config, kind = account_config(account, runtime.settings), account.kind
        cursor: dict[str, Any] | None = account.poll_cursor
    adapter = get_adapter(kind)
    if not isinstance(adapter, PollingAdapter):
        return
    try:
        events, next_cursor = adapter.poll(config, cursor, runtime.http)
    except ChannelError as exc:
        retryable, retry_after = _classify(exc)
        with runtime.db.session() as session:
            account = session.get(ChannelAccount, account_id)
            if account is None:
                return
            audit(session, account.workspace_id, "channel_account.poll_failed",
                  "channel_account", account_id,
                  data={"code": exc.code, "retryable": retryable, "failures": failures + 1})
            if retryable:
                schedule_poll(session, account, exclude=job.id, failures=failures + 1,
                              delay=_retry_delay(account, failures, retry_after))
                return
        raise PermanentFailure(f"{exc.code}: {exc.redacted(config).message}") from None
    _store(runtime, job, account_id, cursor, events, next_cursor)


def _store(runtime: Runtime, job: Job, account_id: uuid.UUID, cursor: dict[str, Any] | None,
           events: list[ProviderEvent], next_cursor: dict[str, Any]) -> None:
    with runtime.db.session() as session:
        account = session.get(ChannelAccount, account_id)
        if account is None:
            return
        stored = store(session, account, events)
        if account.poll_cursor == cursor:  # another poller may have moved it meanwhile
            account.poll_cursor = next_cursor
        if stored:
            audit(session, account.workspace_id, "channel_account.polled", "channel_account",
                  account_id, data={"received": len(events), "stored": stored})
        schedule_poll(session, account, exclude=job.id, delay=interval(account))
