"""Service levels at work: the SERVICE_LEVELS conversation hook (keeps a conversation's
clock after every change), the `sla.scan` job (warnings and breaches, each fired exactly
once), the escalations on a breach, the recomputation job and the supervisors' email.

Exactly once: a warning or breach is claimed by a conditional UPDATE of the clock row (set
`*_warned_at` / `*_breached_at` where it is still empty for this cycle); only the
transaction whose UPDATE changed the row fires, and it does so in the same transaction. Two
scanners (threads, processes, hosts) also take the workspace's operations lock first.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor, set_triage_fields
from threadline.db.base import utcnow
from threadline.db.locks import workspace_lock
from threadline.events.models import OutboxJob
from threadline.events.names import Live
from threadline.events.service import (
    ConversationEvent,
    audit,
    conversation_event,
    enqueue,
    ensure_pending,
    publish,
)
from threadline.jobs.hooks import (
    OPERATIONS_LOCK,
    SERVICE_LEVELS,
    ConversationEvents,
    conversation_hook,
)
from threadline.jobs.registry import Job, RetryLater, handler
from threadline.routing.service import reassign
from threadline.sla.clocks import ACTIVE, next_check, response_target, stamp, when
from threadline.sla.models import SlaClock, SlaOutcome
from threadline.sla.rules import PolicyRule, compile_workspace
from threadline.sla.tracking import recompute_workspace, sync_conversation
from threadline.workspace.models import Agent, Role

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.sla")
SCAN_JOB = "sla.scan"
RECOMPUTE_JOB = "sla.recompute"
EMAIL_JOB = "sla.email"
SCAN_BATCH = 500
SYSTEM = Actor("system", "service-levels")
_OWN_EVENTS = frozenset({ConversationEvent.SLA_WARNING, ConversationEvent.SLA_BREACH})


@conversation_hook(SERVICE_LEVELS, "service_levels")
def track(_runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    """Bring the conversation's clock up to date after whatever changed."""
    if batch.names <= _OWN_EVENTS:
        return
    conv = session.get(Conversation, batch.conversation_id)
    if conv is None or conv.workspace_id != batch.workspace_id:
        return
    sync_conversation(session, conv)


# --- the scanner ------------------------------------------------------------------------------


def scan(runtime: Runtime, *, now: datetime | None = None) -> dict[str, int]:
    """Fire the warnings and breaches due by `now`, workspace by workspace, each under the
    workspace's operations lock in its own transaction. Returns counts."""
    now = now or utcnow()
    with runtime.db.session(write=False) as session:
        workspaces = list(session.scalars(select(SlaClock.workspace_id).where(
            SlaClock.next_check_at <= now).distinct()))
    totals = {"warnings": 0, "breaches": 0}
    for workspace_id in workspaces:
        while True:
            with runtime.db.session() as session:
                workspace_lock(session, workspace_id, OPERATIONS_LOCK)
                fired, more = scan_workspace(session, workspace_id, now=now)
            totals["warnings"] += fired["warnings"]
            totals["breaches"] += fired["breaches"]
            if not more:
                break
    return totals


def scan_workspace(session: Session, workspace_id: uuid.UUID, *,
                   now: datetime | None = None) -> tuple[dict[str, int], bool]:
    """One batch of a workspace's clocks due for a look (the caller holds the lock)."""
    now = now or utcnow()
    rows = session.execute(
        select(SlaClock, Conversation).join(Conversation,
                                            Conversation.id == SlaClock.conversation_id)
        .where(SlaClock.workspace_id == workspace_id, SlaClock.next_check_at <= now)
        .order_by(SlaClock.next_check_at).limit(SCAN_BATCH)).all()
    fired = {"warnings": 0, "breaches": 0}
    if not rows:
        return fired, False
    compiled = compile_workspace(session, workspace_id, now)
    rules = {rule.id: rule for rule in compiled.rules}
    for clock, conv in rows:
        if conv.status not in ACTIVE or conv.merged_into_id is not None:
            clock.next_check_at = None  # closed without an event (merged): nothing is owed
            continue
        rule = rules.get(clock.policy_id) if clock.policy_id else None
        for prefix in ("response", "resolution"):
            target = (response_target(clock.response_kind) if prefix == "response"
                      else "resolution")
            due = getattr(clock, f"{prefix}_due_at")
            warn = getattr(clock, f"{prefix}_warn_at")
            if getattr(clock, f"{prefix}_breached_at") is not None:
                continue
            if due is not None and due <= now:
                if _claim(session, clock, prefix, "breached", now):
                    _breach(session, conv, clock, target, due, rule, now)
                    fired["breaches"] += 1
            elif (warn is not None and warn <= now
                  and getattr(clock, f"{prefix}_warned_at") is None
                  and _claim(session, clock, prefix, "warned", now)):
                _warn(session, conv, target, due, rule)
                fired["warnings"] += 1
        session.refresh(clock)
        clock.next_check_at = when(next_check(
            stamp(clock.response_due_at), stamp(clock.response_warn_at),
            clock.response_warned_at is not None, clock.response_breached_at is not None,
            stamp(clock.resolution_due_at), stamp(clock.resolution_warn_at),
            clock.resolution_warned_at is not None, clock.resolution_breached_at is not None))
        if clock.next_check_at is not None and clock.next_check_at <= now:
            clock.next_check_at = None  # nothing left to fire at this time
    session.flush()
    return fired, len(rows) == SCAN_BATCH


def _claim(session: Session, clock: SlaClock, prefix: str, what: str, now: datetime) -> bool:
    """Mark the warning or breach of this clock's current cycle; True for the one caller
    whose UPDATE changed the row (exactly once, whoever else scans)."""
    column = getattr(SlaClock, f"{prefix}_{what}_at")
    stmt = update(SlaClock).where(SlaClock.conversation_id == clock.conversation_id,
                                  column.is_(None))
    if prefix == "response":
        stmt = stmt.where(SlaClock.response_cycle == clock.response_cycle)
    values: dict[str, Any] = {f"{prefix}_{what}_at": now}
    if what == "breached":
        values[f"{prefix}_warned_at"] = getattr(clock, f"{prefix}_warned_at") or now
    result: Any = session.execute(stmt.values(**values).execution_options(
        synchronize_session=False))
    return int(result.rowcount or 0) == 1


def _payload(conv: Conversation, target: str, due: datetime | None,
             rule: PolicyRule | None) -> dict[str, Any]:
    return {"conversation_id": str(conv.id), "target": target,
            "due_at": due.isoformat() if due else None,
            "assignee_id": str(conv.assignee_id) if conv.assignee_id else None,
            "team_id": str(conv.team_id) if conv.team_id else None,
            "priority": conv.priority, "policy": rule.name if rule else None}


def _warn(session: Session, conv: Conversation, target: str, due: datetime | None,
          rule: PolicyRule | None) -> None:
    payload = _payload(conv, target, due, rule)
    audit(session, conv.workspace_id, "sla.warning", "conversation", conv.id,
          actor_type="system", actor_id="service-levels", data=payload)
    publish(session, conv.workspace_id, Live.SLA_WARNING, payload)
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.SLA_WARNING,
                       clock=target, due_at=payload["due_at"])


def _breach(session: Session, conv: Conversation, clock: SlaClock, target: str,
            due: datetime, rule: PolicyRule | None, now: datetime) -> None:
    cycle = clock.response_cycle if target != "resolution" else 0
    outcome = session.scalar(select(SlaOutcome).where(
        SlaOutcome.conversation_id == conv.id, SlaOutcome.target == target,
        SlaOutcome.cycle == cycle))
    if outcome is None:
        session.add(SlaOutcome(workspace_id=conv.workspace_id, conversation_id=conv.id,
                               policy_id=rule.id if rule else None, target=target,
                               cycle=cycle, status="breached", due_at=due, breached_at=now,
                               created_at=now))
    payload = _payload(conv, target, due, rule)
    actions = _escalate(session, conv, target, due, rule)
    payload["actions"] = actions
    audit(session, conv.workspace_id, "sla.breached", "conversation", conv.id,
          actor_type="system", actor_id="service-levels", data=payload)
    publish(session, conv.workspace_id, Live.SLA_BREACH, payload)
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.SLA_BREACH,
                       clock=target, due_at=payload["due_at"])
    log.info("service level breached", extra={"conversation_id": str(conv.id),
                                              "target": target})


def _escalate(session: Session, conv: Conversation, target: str, due: datetime,
              rule: PolicyRule | None) -> list[str]:
    """The policy's escalation actions, once per breach; returns what was done."""
    done = ["notify"]  # the live event to the assignee and the supervisors, always
    for action in rule.escalation if rule else ():
        if action == "raise_priority" and 1 < conv.priority <= 4:
            set_triage_fields(session, conv, {"priority": conv.priority - 1}, SYSTEM)
            done.append("raise_priority")
        elif action == "reassign":
            reason = (f"service level breached: {target.replace('_', ' ')} was due "
                      f"{due.isoformat(timespec='minutes')}")
            reassign(session, conv, reason=reason, actor="system")
            done.append("reassign")
        elif action == "email_supervisors":
            enqueue(session, EMAIL_JOB, {"conversation_id": str(conv.id), "target": target,
                                         "due_at": due.isoformat()},
                    workspace_id=conv.workspace_id)
            done.append("email_supervisors")
    return done


# --- jobs -------------------------------------------------------------------------------------


def schedule_scan(session: Session, *, delay: timedelta = timedelta(0),
                  exclude: int | None = None) -> OutboxJob | None:
    """Make sure one scan job is pending (a run being executed does not count)."""
    return ensure_pending(session, SCAN_JOB, delay=delay, exclude=exclude)


@handler(SCAN_JOB)
def scan_job(runtime: Runtime, job: Job) -> None:
    try:
        scan(runtime)
    finally:
        with runtime.db.session() as session:
            schedule_scan(session, delay=timedelta(seconds=runtime.settings.sla_scan_seconds),
                          exclude=job.id)


def request_recompute(session: Session, workspace_id: uuid.UUID) -> None:
    """Recompute the workspace's open conversations once this transaction commits."""
    enqueue(session, RECOMPUTE_JOB, {}, workspace_id=workspace_id)


@handler(RECOMPUTE_JOB)
def recompute_job(runtime: Runtime, job: Job) -> None:
    if job.workspace_id is None:
        return
    workspace_id = uuid.UUID(str(job.workspace_id))
    with runtime.db.session() as session:
        workspace_lock(session, workspace_id, OPERATIONS_LOCK)
        counts = recompute_workspace(session, workspace_id)
    log.info("service levels recomputed: %s open, %s changed, %s new clocks",
             counts["open"], counts["changed"], counts["created"])


@handler(EMAIL_JOB)
def email_job(runtime: Runtime, job: Job) -> None:
    """Email the workspace's supervisors and admins about a breach (no customer data: the
    target, the due time and a link to the conversation)."""
    settings = runtime.settings
    if not settings.notify_smtp_host:
        log.info("no notification SMTP server configured; breach email skipped")
        return
    payload = job.payload
    with runtime.db.session(write=False) as session:
        conv = session.get(Conversation, uuid.UUID(str(payload.get("conversation_id"))))
        if conv is None or str(conv.workspace_id) != str(job.workspace_id):
            return
        recipients = sorted(session.scalars(select(Agent.email).where(
            Agent.workspace_id == conv.workspace_id, Agent.active.is_(True),
            Agent.role.in_((Role.SUPERVISOR, Role.ADMIN)))))
    if not recipients:
        return
    target = str(payload.get("target", "")).replace("_", " ")
    link = f"{(settings.public_url or '').rstrip('/')}/conversations/{conv.id}"
    message = EmailMessage()
    message["From"] = settings.notify_smtp_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"Service level breached: {target}"
    message.set_content(
        f"A conversation breached its {target} target (due {payload.get('due_at')}).\n"
        f"Priority P{conv.priority}. Open it: {link}\n")
    try:
        with smtplib.SMTP(settings.notify_smtp_host, settings.notify_smtp_port,
                          timeout=20) as smtp:
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise RetryLater(f"breach email not sent: {type(exc).__name__}") from None
