"""From domain events to signed HTTP requests.

Recording: conversation events (the WEBHOOKS conversation hook, after every other stage) and
a few others seen in the audit log as it is written (customer created or merged, hop offered,
taken or returned, CSAT recorded: `events.service.on_audit`) become one `webhook_deliveries`
row per matching active subscription, in the transaction of the event itself, and a
`webhook.dispatch` job to wake the sender.

Sending: the `webhook.dispatch` job claims due deliveries in batches (a lease, like the
outbox: a worker killed mid-delivery leaves it to be sent again once the lease runs out, with
the same `webhook-id`), sends each batch concurrently, and records every attempt. Only the
first unfinished delivery of a subscription and conversation is ever claimed, so a
conversation's events arrive in order. Failures are retried with exponential backoff and
jitter; a subscription failing for long enough (or answering 410) is disabled and the admins
are told. See docs/decisions/0318-outbound-webhooks.md.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from sqlalchemy import Table, and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from threadline.adapters.config import url_policy
from threadline.channels.urls import UrlPolicy
from threadline.config import Settings
from threadline.db.base import utcnow
from threadline.errors import ValidationFailed
from threadline.events.models import OutboxJob
from threadline.events.service import ConversationEvent, enqueue, on_audit
from threadline.integrations.webhooks import rules
from threadline.integrations.webhooks.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from threadline.integrations.webhooks.service import (
    check_url,
    disable,
    signing_secrets,
)
from threadline.jobs.hooks import ConversationEvents, conversation_hook
from threadline.jobs.registry import Job, handler

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.webhooks")
WEBHOOKS = 60  # after KPIs (50): the last stage
DISPATCH_JOB = "webhook.dispatch"
BATCH = 100  # deliveries claimed and sent together
SENDERS = 8  # concurrent requests of one batch (more threads only fight for the GIL)
RUN_SECONDS = 2.0  # a dispatch job claims batches this long, then hands the worker back
_EVENT_NS = uuid.UUID("6b1f0d2e-9a57-4c55-8f7e-1d1f0b7f6a31")


@dataclass(frozen=True)
class Event:
    """One event to deliver: its type, its data (ids and a few fields), the conversation it
    belongs to (deliveries of one conversation go out in order) and, when the same event
    may be recorded twice (a conversation job run again), a key that makes it the same."""

    type: str
    data: dict[str, Any]
    conversation_id: uuid.UUID | None = None
    key: str | None = None


def _event_id(key: str | None) -> str:
    return "msg_" + (uuid.uuid5(_EVENT_NS, key) if key else uuid.uuid4()).hex


def body_of(event: Event, at: datetime) -> str:
    return orjson.dumps({"type": event.type,
                         "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                         "data": event.data}).decode()


def wake(session: Session, *, at: datetime | None = None) -> None:
    """A dispatch job, due `at` (now by default), with the caller's transaction."""
    enqueue(session, DISPATCH_JOB, {}, due_at=at)


def record(session: Session, workspace_id: uuid.UUID, events: Sequence[Event]) -> int:
    """A delivery per event and active subscription that asked for its type, in the
    caller's transaction; returns how many. Nothing is written when none matches."""
    if not events:
        return 0
    subs = session.execute(select(WebhookSubscription.id, WebhookSubscription.event_types)
                           .where(WebhookSubscription.workspace_id == workspace_id,
                                  WebhookSubscription.status == SubscriptionStatus.ACTIVE)
                           ).all()
    if not subs:
        return 0
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for event in events:
        wanted = [sub_id for sub_id, types in subs if event.type in (types or ())]
        if not wanted:
            continue
        event_id, body = _event_id(event.key), body_of(event, now)
        ordering = str(event.conversation_id) if event.conversation_id else None
        rows.extend({"workspace_id": workspace_id, "subscription_id": sub_id,
                     "event_id": event_id, "event_type": event.type,
                     "ordering_key": ordering, "body": body,
                     "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now,
                     "created_at": now} for sub_id in wanted)
    if not rows:
        return 0
    table: Table = WebhookDelivery.__table__  # type: ignore[assignment]
    stmt: Any = (pg_insert(table) if session.get_bind().dialect.name == "postgresql"
                 else sqlite_insert(table)).on_conflict_do_nothing(
        index_elements=["subscription_id", "event_id"])
    session.execute(stmt, rows)
    wake(session)
    return len(rows)


# --- what becomes an event -------------------------------------------------------------------


def conversation_webhook_events(batch: ConversationEvents) -> list[Event]:
    """The webhook events of one conversation job (private notes never make one)."""
    conv = batch.conversation_id
    base = {"conversation_id": str(conv)}
    out: list[Event] = []
    reopened = False
    for index, e in enumerate(batch.events):
        name = e.get("event")
        key = f"conversation.event:{batch.job_id}:{index}" if batch.job_id is not None else None

        def add(kind: str, key: str | None = key, **data: Any) -> None:
            out.append(Event(kind, {**base, **data}, conv, key))

        if name == ConversationEvent.CREATED:
            add("conversation.created")
        elif name == ConversationEvent.MESSAGE_RECEIVED:
            add("message.created", message_id=e.get("message_id"), direction="inbound")
        elif name in (ConversationEvent.REPLIED, ConversationEvent.MESSAGE_ECHOED):
            add("message.created", message_id=e.get("message_id"), direction="outbound",
                **({"visibility": e["visibility"]} if e.get("visibility") else {}))
        elif name == ConversationEvent.ASSIGNED:
            add("conversation.assigned", assignee_id=e.get("assignee_id"),
                team_id=e.get("team_id"))
        elif name == ConversationEvent.STATUS_CHANGED and e.get("to") == "resolved":
            add("conversation.resolved")
        elif not reopened and (name == ConversationEvent.REOPENED or (
                name == ConversationEvent.STATUS_CHANGED
                and e.get("from") in ("resolved", "closed")
                and e.get("to") in ("open", "pending"))):
            reopened = True
            add("conversation.reopened")
    return out


@conversation_hook(WEBHOOKS, "webhooks")
def conversation_deliveries(runtime: Runtime, session: Session,
                            batch: ConversationEvents) -> None:
    record(session, batch.workspace_id, conversation_webhook_events(batch))


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def audit_webhook_event(row: dict[str, Any]) -> Event | None:
    """The webhook event an audit row stands for, if any."""
    action, data = row.get("action"), row.get("data") or {}
    subject = str(row.get("subject_id"))
    if action == "customer.created":
        return Event("customer.created", {"customer_id": subject})
    if action == "customer.merged":
        return Event("customer.merged", {"customer_id": subject,
                                         "merged_customer_id": data.get("source")})
    conv = _uuid(subject) if row.get("subject_type") == "conversation" else None
    if conv is None:
        return None
    base = {"conversation_id": str(conv)}
    if action == "hop.offered":
        return Event("hop.offered", {**base, "hop_id": data.get("hop_id"),
                                     "method": data.get("method")}, conv)
    if action == "hop.taken":
        return Event("hop.taken", {**base, "hop_id": data.get("hop_id"),
                                   "to_channel": data.get("to_channel")}, conv)
    if action == "hop.returned":
        return Event("hop.returned", {**base, "hop_id": data.get("hop_id"),
                                      "message_id": data.get("message_id")}, conv)
    if action == "csat.answered":
        return Event("csat.recorded", {**base, "survey_id": data.get("survey_id"),
                                       "score": data.get("score")}, conv)
    return None


_AUDITED = frozenset({"customer.created", "customer.merged", "hop.offered", "hop.taken",
                      "hop.returned", "csat.answered"})


def audit_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    """The audit listener: no query at all unless a row is one of the events above."""
    by_workspace: dict[uuid.UUID, list[Event]] = {}
    for row in rows:
        if row.get("action") not in _AUDITED:
            continue
        event = audit_webhook_event(row)
        if event is not None:
            by_workspace.setdefault(row["workspace_id"], []).append(event)
    for workspace_id, events in by_workspace.items():
        record(session, workspace_id, events)


on_audit("webhooks", audit_deliveries)


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    subscription_id: uuid.UUID
    workspace_id: uuid.UUID
    event_id: str
    body: str
    attempts: int
    url: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    delivery: Claimed
    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and rules.succeeded(self.status_code)


def lease_seconds(settings: Settings, count: int = 1) -> float:
    """How long a claim of `count` deliveries holds: long enough for every one of them to
    time out, `SENDERS` at a time, and a margin; after it, a delivery is sent again."""
    rounds = -(-count // SENDERS)
    return settings.outbound_webhook_timeout_seconds * rounds + 5.0


def _due_heads(now: datetime) -> Any:
    """Due, unclaimed deliveries of active subscriptions that have no earlier unfinished
    delivery for the same subscription and conversation."""
    earlier = aliased(WebhookDelivery)
    d = WebhookDelivery
    return (select(d.id).join(WebhookSubscription, WebhookSubscription.id == d.subscription_id)
            .where(d.status == DeliveryStatus.PENDING, d.next_attempt_at <= now,
                   d.claimed_until.is_(None) | (d.claimed_until < now),
                   WebhookSubscription.status == SubscriptionStatus.ACTIVE,
                   ~exists().where(and_(earlier.subscription_id == d.subscription_id,
                                        earlier.ordering_key == d.ordering_key,
                                        earlier.status == DeliveryStatus.PENDING,
                                        earlier.id < d.id))))


def claim(runtime: Runtime, limit: int = BATCH) -> list[Claimed]:
    now = utcnow()
    with runtime.db.session() as session:
        stmt = _due_heads(now).order_by(WebhookDelivery.next_attempt_at,
                                        WebhookDelivery.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=WebhookDelivery, skip_locked=True)
        ids = list(session.scalars(stmt))
        if not ids:
            return []
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(
            claimed_until=now + timedelta(seconds=lease_seconds(runtime.settings, len(ids))),
            attempts=WebhookDelivery.attempts + 1).execution_options(
            synchronize_session=False))
        d = WebhookDelivery
        rows = session.execute(select(d.id, d.subscription_id, d.workspace_id, d.event_id,
                                      d.body, d.attempts).where(d.id.in_(ids))
                               .order_by(d.id)).all()
        subs = {s.id: s for s in session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.id.in_({r.subscription_id for r in rows})))}
        secrets = {sub_id: tuple(signing_secrets(sub)) for sub_id, sub in subs.items()}
        return [Claimed(id=r.id, subscription_id=r.subscription_id,
                        workspace_id=r.workspace_id, event_id=r.event_id, body=r.body,
                        attempts=r.attempts, url=subs[r.subscription_id].url,
                        secrets=secrets[r.subscription_id]) for r in rows]


def send(client: httpx.Client, item: Claimed, policy: UrlPolicy, timeout: float) -> Outcome:
    """One attempt: the URL is checked again (its host may resolve elsewhere now), redirects
    are not followed, the body is the stored bytes, signed for this attempt's timestamp."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        check_url(item.url, policy)
    except ValidationFailed as exc:
        return Outcome(item, None, exc.message[:300], took())
    body = item.body.encode()
    try:
        response = client.post(item.url, content=body, timeout=timeout,
                               headers=rules.headers(item.secrets, item.event_id, body),
                               follow_redirects=False)
    except httpx.TimeoutException:
        return Outcome(item, None, "timed out", took())
    except httpx.HTTPError as exc:
        return Outcome(item, None, f"no response: {type(exc).__name__}", took())
    retry = rules.retry_after_seconds(response.headers.get("retry-after"))
    error = None if rules.succeeded(response.status_code) else f"HTTP {response.status_code}"
    return Outcome(item, response.status_code, error, took(), retry)


def _record(runtime: Runtime, outcomes: Sequence[Outcome]) -> None:
    settings = runtime.settings
    now = utcnow()
    with runtime.db.session() as session:
        session.execute(WebhookAttempt.__table__.insert(), [  # type: ignore[attr-defined]
            {"delivery_id": o.delivery.id, "attempted_at": now, "status_code": o.status_code,
             "error": o.error, "duration_ms": o.duration_ms} for o in outcomes])
        by_sub: dict[uuid.UUID, list[Outcome]] = {}
        delivered: dict[int, list[int]] = {}  # status code -> delivery ids
        for o in outcomes:
            by_sub.setdefault(o.delivery.subscription_id, []).append(o)
            if o.ok:
                delivered.setdefault(int(o.status_code or 200), []).append(o.delivery.id)
                continue
            values: dict[str, Any] = {"claimed_until": None, "last_status_code": o.status_code,
                                      "last_error": o.error}
            if (o.delivery.attempts >= settings.outbound_webhook_max_attempts
                    or (o.status_code is not None and rules.gone(o.status_code))):
                values.update(status=DeliveryStatus.FAILED)
            else:
                delay = rules.backoff_seconds(o.delivery.attempts,
                                              settings.outbound_webhook_retry_base_seconds,
                                              settings.outbound_webhook_retry_max_seconds)
                if o.retry_after is not None:
                    delay = min(max(delay, o.retry_after),
                                settings.outbound_webhook_retry_max_seconds)
                values.update(next_attempt_at=now + timedelta(seconds=delay))
            _settle(session, [o.delivery.id], values)
        for code, ids in delivered.items():
            _settle(session, ids, {"status": DeliveryStatus.DELIVERED, "delivered_at": now,
                                   "claimed_until": None, "last_status_code": code,
                                   "last_error": None})
        for sub_id, results in by_sub.items():
            _health(session, settings, sub_id, results, now)


def _settle(session: Session, ids: list[int], values: dict[str, Any]) -> None:
    """Only deliveries still pending change (a redelivery or a lease that ran out and a
    second sender may have settled one already)."""
    session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id.in_(ids), WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(**values).execution_options(synchronize_session=False))


def _health(session: Session, settings: Settings, sub_id: uuid.UUID,
            results: list[Outcome], now: datetime) -> None:
    """A success ends the failure streak; failures lengthen it, and a streak of at least
    `outbound_webhook_disable_after_failures` failures spread over at least
    `outbound_webhook_disable_after_seconds` (or a 410) disables the subscription."""
    sub = session.get(WebhookSubscription, sub_id, with_for_update=True)
    if sub is None or sub.status != SubscriptionStatus.ACTIVE:
        return
    failures = [o for o in results if not o.ok]
    if len(failures) < len(results):
        sub.consecutive_failures, sub.failing_since = 0, None
    if not failures:
        return
    sub.consecutive_failures += len(failures)
    sub.failing_since = sub.failing_since or now
    gone = any(o.status_code is not None and rules.gone(o.status_code) for o in failures)
    sustained = (sub.consecutive_failures >= settings.outbound_webhook_disable_after_failures
                 and (now - sub.failing_since).total_seconds()
                 >= settings.outbound_webhook_disable_after_seconds)
    if gone or sustained:
        reason = ("the receiver answered 410 Gone" if gone else
                  f"{sub.consecutive_failures} failed attempts in a row since "
                  f"{sub.failing_since:%Y-%m-%d %H:%M} UTC")
        disable(session, sub, reason)
        log.warning("webhook subscription %s disabled after %d failures", sub.id,
                    sub.consecutive_failures)


def next_wake(runtime: Runtime) -> datetime | None:
    """When the next delivery that may go out is due (or its lease ends): the first
    unfinished one of each subscription and conversation (those behind it wait for it)."""
    earlier = aliased(WebhookDelivery)
    d = WebhookDelivery
    with runtime.db.session(write=False) as session:
        value: datetime | None = session.scalar(
            select(func.min(func.coalesce(d.claimed_until, d.next_attempt_at)))
            .join(WebhookSubscription, WebhookSubscription.id == d.subscription_id)
            .where(d.status == DeliveryStatus.PENDING,
                   WebhookSubscription.status == SubscriptionStatus.ACTIVE,
                   ~exists().where(and_(earlier.subscription_id == d.subscription_id,
                                        earlier.ordering_key == d.ordering_key,
                                        earlier.status == DeliveryStatus.PENDING,
                                        earlier.id < d.id))))
        return value


def _schedule(runtime: Runtime, at: datetime, exclude: int | None) -> None:
    """Make sure a dispatch job is due by `at` (one already pending by then is enough)."""
    with runtime.db.session() as session:
        stmt = select(OutboxJob.id).where(OutboxJob.name == DISPATCH_JOB,
                                          OutboxJob.status == "pending",
                                          OutboxJob.due_at <= at)
        if exclude is not None:
            stmt = stmt.where(OutboxJob.id != exclude)
        if session.scalars(stmt.limit(1)).first() is None:
            wake(session, at=at)


def dispatch(runtime: Runtime, *, client: httpx.Client | None = None,
             seconds: float = RUN_SECONDS, job_id: int | None = None) -> int:
    """Send what is due, batch after batch, for at most `seconds`; then make sure a job
    comes back when the next delivery is due. Returns how many attempts were made."""
    http = client or runtime.http
    policy = url_policy(runtime.settings)
    timeout = runtime.settings.outbound_webhook_timeout_seconds
    deadline = time.monotonic() + seconds
    sent = 0
    with ThreadPoolExecutor(max_workers=SENDERS, thread_name_prefix="webhook") as pool:
        while True:
            batch = claim(runtime)
            if not batch:
                break
            outcomes = list(pool.map(lambda item: send(http, item, policy, timeout), batch))
            _record(runtime, outcomes)
            sent += len(outcomes)
            if time.monotonic() >= deadline:
                break
    wake_at = next_wake(runtime)
    if wake_at is not None:
        _schedule(runtime, max(wake_at, utcnow()), job_id)
    return sent


@handler(DISPATCH_JOB)
def dispatch_job(runtime: Runtime, job: Job) -> None:
    sent = dispatch(runtime, job_id=job.id)
    if sent:
        log.info("webhook attempts made", extra={"count": sent})
