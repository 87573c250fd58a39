"""Community questions stay with the community until they need an agent (docs/community.md,
decision 0331).

A forum topic (the first post of a Discourse topic) is stored as a conversation like any
public post. The COMMUNITY conversation hook runs first of the operations stages, in the job
of its creation: it labels the conversation `community` and snoozes it until its deadline
(the topic's time + the workspace's `escalate_after_hours`). Snoozed, it is in no queue and
routing never takes it (routing assigns open and pending conversations only); its service
level clocks pause. That is the community state: status `snoozed` + label `community`.

It leaves the community state by:
  * escalation: the `community.scan` job (every SCAN_SECONDS, like `sla.scan`) finds it
    past its deadline with no accepted solution and no staff reply; or the asker's post is
    negative or a complaint (triage) and the workspace escalates those at once. Escalated,
    it is labelled `community:escalated`, reopened (normal routing follows) and, when the
    forum gave the asker's e-mail and another customer already has it, it becomes that
    customer's conversation;
  * a solution accepted on the forum (the solved plugin's webhook, taken before threading
    by the interceptor here): resolved, labelled `community:solved`;
  * a staff reply before the deadline (the brand's post in the topic, or an agent's reply):
    resolved at the deadline, labelled `community:answered`;
  * an agent taking it early (un-snoozing it): it is then an ordinary conversation.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from threadline.channels.base import InboundMessage
from threadline.community.settings import CommunitySettings, community_settings
from threadline.contacts.models import Identity, MergeSuggestion
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.service import Actor, set_status
from threadline.db.base import utcnow
from threadline.db.locks import workspace_lock
from threadline.events.models import OutboxJob
from threadline.events.names import Live
from threadline.events.service import ConversationEvent, audit, enqueue, ensure_pending, publish
from threadline.inbound.intercept import interceptor
from threadline.jobs.hooks import OPERATIONS_LOCK, ConversationEvents, conversation_hook
from threadline.jobs.registry import Job, RetryLater, handler
from threadline.workspace.models import ChannelAccount

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.community")

CHANNEL = "discourse"
COMMUNITY = "community"
ESCALATED = "community:escalated"
SOLVED = "community:solved"
ANSWERED = "community:answered"
OUTCOMES = (ESCALATED, SOLVED, ANSWERED)
COMMUNITY_STAGE = 5  # before automation (10) and routing (20): jobs/hooks.py
SCAN_JOB = "community.scan"
SCAN_SECONDS = 60.0
SCAN_BATCH = 200
ACTOR = Actor("system", "community")
SOLUTION_EVENTS = ("accepted_solution", "unaccepted_solution")


class Reason:
    DEADLINE = "no_answer"  # no accepted solution and no staff reply in time
    NEGATIVE = "negative_sentiment"
    COMPLAINT = "complaint"


def is_community(conv: Conversation) -> bool:
    return conv.origin_channel == CHANNEL and COMMUNITY in (conv.labels or [])


def watching(conv: Conversation) -> bool:
    """In the community state: peers have it, no agent does."""
    labels = set(conv.labels or [])
    return (conv.origin_channel == CHANNEL and COMMUNITY in labels
            and not labels & set(OUTCOMES) and conv.status == Status.SNOOZED
            and conv.merged_into_id is None)


# --- the hook: new topics stay in the community ---------------------------------------------------


@conversation_hook(COMMUNITY_STAGE, "community")
def on_events(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    wanted = {ConversationEvent.CREATED, ConversationEvent.MESSAGE_RECEIVED,
              ConversationEvent.REOPENED}
    if not batch.names & wanted:
        return
    conv = session.get(Conversation, batch.conversation_id)
    if (conv is None or conv.workspace_id != batch.workspace_id
            or conv.origin_channel != CHANNEL or conv.merged_into_id is not None):
        return
    rules = community_settings(session, conv.workspace_id)
    if ConversationEvent.CREATED in batch.names and COMMUNITY not in (conv.labels or []):
        if rules.enabled and conv.status == Status.OPEN and conv.assignee_id is None:
            start_watching(session, conv, rules)
        return
    if (ConversationEvent.REOPENED in batch.names and rules.enabled and is_community(conv)
            and ESCALATED not in (conv.labels or []) and conv.status == Status.OPEN
            and conv.assignee_id is None):
        rewatch(session, conv, rules)
    if watching(conv):
        for event in batch.of(ConversationEvent.MESSAGE_RECEIVED):
            message = _message(session, conv, event.get("message_id"))
            reason = _alarm(session, conv, message, rules) if message is not None else None
            if reason is not None:
                escalate(session, conv, reason)
                return


def start_watching(session: Session, conv: Conversation, rules: CommunitySettings) -> None:
    """A new topic: escalated at once when the asker's post calls for it, else snoozed
    until its deadline."""
    first = session.get(Message, conv.origin_message_id) if conv.origin_message_id else None
    reason = _alarm(session, conv, first, rules) if first is not None else None
    conv.labels = sorted({*(conv.labels or []), COMMUNITY})
    if reason is not None:
        escalate(session, conv, reason)
        return
    deadline = conv.created_at + timedelta(hours=rules.escalate_after_hours)
    if deadline <= utcnow():  # delivered late (or replayed): overdue already
        if staff_replied(session, conv):
            conclude(session, conv, ANSWERED, "answered")
        else:
            escalate(session, conv, Reason.DEADLINE)
        return
    set_status(session, conv, Status.SNOOZED, ACTOR, snooze_until=deadline)
    audit(session, conv.workspace_id, "community.watching", "conversation", conv.id,
          actor_type=ACTOR.type, actor_id=ACTOR.id,
          data={"deadline": deadline.isoformat(), "hours": rules.escalate_after_hours})
    schedule_scan(session)


def rewatch(session: Session, conv: Conversation, rules: CommunitySettings) -> None:
    """A new post in a topic the community had solved or staff had answered (a "thanks",
    a peer's aside) reopened it: back to the community with a new deadline, not into the
    queue. The asker's negative post or complaint still escalates at once."""
    conv.labels = sorted(set(conv.labels or []) - {SOLVED, ANSWERED})
    deadline = utcnow() + timedelta(hours=rules.escalate_after_hours)
    set_status(session, conv, Status.SNOOZED, ACTOR, snooze_until=deadline)
    audit(session, conv.workspace_id, "community.watching", "conversation", conv.id,
          actor_type=ACTOR.type, actor_id=ACTOR.id,
          data={"deadline": deadline.isoformat(), "hours": rules.escalate_after_hours,
                "again": True})
    schedule_scan(session)


def _message(session: Session, conv: Conversation, message_id: Any) -> Message | None:
    try:
        message = session.get(Message, uuid.UUID(str(message_id)))
    except ValueError:
        return None
    return message if message is not None and message.conversation_id == conv.id else None


def _alarm(session: Session, conv: Conversation, message: Message,
           rules: CommunitySettings) -> str | None:
    """Why the asker's post escalates at once (a complaint, negative sentiment), or None.
    Only the asker's own posts count: a grumpy peer does not escalate someone's question."""
    if message.direction != "inbound" or message.identity_id is None:
        return None
    asker = session.scalar(select(Identity.customer_id).where(
        Identity.id == message.identity_id))
    if asker is None or asker != conv.customer_id:
        return None
    triage = message.triage or {}
    if rules.escalate_on_complaint and triage.get("category") == "complaint":
        return Reason.COMPLAINT
    if rules.escalate_on_negative and triage.get("sentiment") == "negative":
        return Reason.NEGATIVE
    return None


# --- escalation -----------------------------------------------------------------------------------


def escalate(session: Session, conv: Conversation, reason: str) -> None:
    """Into the live inbox: labelled, matched to the known customer, reopened (routing takes
    it from there: the status change is a conversation event)."""
    conv.labels = sorted({*(conv.labels or []), COMMUNITY, ESCALATED})
    matched = match_customer(session, conv)
    data: dict[str, Any] = {"reason": reason}
    if matched is not None:
        data["customer_matched_by"] = "email"
    audit(session, conv.workspace_id, "community.escalated", "conversation", conv.id,
          actor_type=ACTOR.type, actor_id=ACTOR.id, data=data)
    if conv.status == Status.SNOOZED:
        set_status(session, conv, Status.OPEN, ACTOR)
    else:
        publish(session, conv.workspace_id, Live.CONVERSATION_UPDATED,
                {"conversation_id": str(conv.id), "action": "community.escalated",
                 "status": conv.status})
    log.info("community topic escalated", extra={"conversation_id": str(conv.id),
                                                 "reason": reason})


def match_customer(session: Session, conv: Conversation) -> uuid.UUID | None:
    """When the forum gave the asker's e-mail and it belongs to another customer (the
    inbound flow then suggested merging the two), the escalated conversation becomes that
    customer's: the agent sees his history. The profiles stay apart until a person merges
    them (the suggestion stays open). Returns the customer moved to, if any."""
    if conv.customer_id is None:
        return None
    row = session.execute(
        select(MergeSuggestion.customer_a_id, MergeSuggestion.customer_b_id).where(
            MergeSuggestion.workspace_id == conv.workspace_id,
            or_(MergeSuggestion.customer_a_id == conv.customer_id,
                MergeSuggestion.customer_b_id == conv.customer_id),
            MergeSuggestion.status == "open",
            MergeSuggestion.reason.like("same email%"))
        .order_by(MergeSuggestion.created_at).limit(1)).first()
    if row is None:
        return None
    other = row[1] if row[0] == conv.customer_id else row[0]
    if other is None or other == conv.customer_id:
        return None
    previous, conv.customer_id = conv.customer_id, other
    audit(session, conv.workspace_id, "community.customer_matched", "conversation", conv.id,
          actor_type=ACTOR.type, actor_id=ACTOR.id,
          data={"from": str(previous), "to": str(other), "by": "email"})
    return other


def staff_replied(session: Session, conv: Conversation) -> bool:
    """The brand answered in the topic: an agent's reply, or a staff post on the forum."""
    return session.scalar(select(Message.id).where(
        Message.conversation_id == conv.id, Message.direction == "outbound",
        Message.kind != "note", Message.delivery.not_in(("failed", "rejected")))
        .limit(1)) is not None


def conclude(session: Session, conv: Conversation, outcome: str, why: str) -> None:
    """The community handled it: resolved with its outcome label, never in the queue."""
    conv.labels = sorted({*(conv.labels or []), COMMUNITY, outcome})
    conv.snoozed_until = None
    audit(session, conv.workspace_id, f"community.{why}", "conversation", conv.id,
          actor_type=ACTOR.type, actor_id=ACTOR.id)
    set_status(session, conv, Status.RESOLVED, ACTOR)


# --- the scanner ----------------------------------------------------------------------------------


def _due(workspace_id: uuid.UUID | None, now: datetime) -> Any:
    stmt = select(Conversation).where(
        Conversation.status == Status.SNOOZED, Conversation.origin_channel == CHANNEL,
        Conversation.snoozed_until <= now, Conversation.merged_into_id.is_(None))
    return stmt if workspace_id is None else stmt.where(Conversation.workspace_id == workspace_id)


def scan(runtime: Runtime, *, now: datetime | None = None) -> dict[str, int]:
    """Decide every community topic past its deadline by `now`, workspace by workspace, each
    under the workspace's operations lock in its own transaction. Returns counts."""
    now = now or utcnow()
    with runtime.db.session(write=False) as session:
        workspaces = list(session.scalars(
            _due(None, now).with_only_columns(Conversation.workspace_id).distinct()))
    totals = {"escalated": 0, "solved": 0, "answered": 0}
    for workspace_id in workspaces:
        while True:
            with runtime.db.session() as session:
                workspace_lock(session, workspace_id, OPERATIONS_LOCK)
                counts, more = scan_workspace(session, workspace_id, now=now)
            for key, value in counts.items():
                totals[key] += value
            if not more:
                break
    return totals


def scan_workspace(session: Session, workspace_id: uuid.UUID, *,
                   now: datetime | None = None) -> tuple[dict[str, int], bool]:
    now = now or utcnow()
    rows = list(session.scalars(_due(workspace_id, now)
                                .order_by(Conversation.snoozed_until).limit(SCAN_BATCH)))
    counts = {"escalated": 0, "solved": 0, "answered": 0}
    for conv in rows:
        if not watching(conv):
            conv.snoozed_until = None  # snoozed by a person, or decided: nothing to do here
            continue
        if SOLVED in (conv.labels or []) or _has_solution(session, conv):
            conclude(session, conv, SOLVED, "solved")
            counts["solved"] += 1
        elif staff_replied(session, conv):
            conclude(session, conv, ANSWERED, "answered")
            counts["answered"] += 1
        else:
            escalate(session, conv, Reason.DEADLINE)
            counts["escalated"] += 1
    session.flush()
    return counts, len(rows) == SCAN_BATCH


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
            schedule_scan(session, delay=timedelta(seconds=SCAN_SECONDS), exclude=job.id)


# --- solutions accepted on the forum --------------------------------------------------------------


SOLUTION_JOB = "community.solution"
SOLUTION_TRIES = 6


@interceptor("community.solutions")
def take_solution(runtime: Runtime, session: Session, account: ChannelAccount,
                  item: InboundMessage) -> bool:
    """The solved plugin's webhook: never a message. Applied at once when the accepted post
    is stored; else (it may be in this very batch) a job applies it after the batch."""
    if account.kind != CHANNEL:
        return False
    event = item.meta.get("discourse_event")
    if event not in SOLUTION_EVENTS:
        return False
    pid = f"{item.meta.get('topic_id')}:{item.meta.get('post_number')}"
    accepted = event == "accepted_solution"
    if not apply_solution(session, account.id, pid, accepted):
        enqueue(session, SOLUTION_JOB, {"account_id": str(account.id), "provider_id": pid,
                                        "accepted": accepted},
                workspace_id=account.workspace_id, delay=timedelta(seconds=1))
    return True


@handler(SOLUTION_JOB)
def solution_job(runtime: Runtime, job: Job) -> None:
    try:
        account_id = uuid.UUID(str(job.payload.get("account_id")))
    except ValueError:
        return
    with runtime.db.session() as session:
        done = apply_solution(session, account_id, str(job.payload.get("provider_id")),
                              bool(job.payload.get("accepted")))
    if not done and job.attempts < min(SOLUTION_TRIES, runtime.settings.max_attempts - 1):
        raise RetryLater("the accepted post is not stored yet", 2.0 * job.attempts)
    if not done:  # a post never stored here (a whisper, another category): forgotten
        log.info("solution for a post not stored", extra={"account_id": str(account_id)})


def apply_solution(session: Session, account_id: uuid.UUID, provider_id: str,
                   accepted: bool) -> bool:
    """Mark the post (`meta.accepted_solution`), label the conversation `community:solved`
    and resolve it when peers had it. False when the post is not stored (yet). Idempotent:
    marking twice changes nothing."""
    message = session.scalar(select(Message).where(
        Message.channel_account_id == account_id, Message.provider_id == provider_id))
    if message is None:
        return False
    conv = session.get(Conversation, message.conversation_id)
    while conv is not None and conv.merged_into_id is not None:
        conv = session.get(Conversation, conv.merged_into_id)
    if conv is None:
        return True
    meta = dict(message.meta or {})
    if bool(meta.get("accepted_solution")) == accepted:
        return True  # already recorded
    meta["accepted_solution"] = accepted
    session.execute(update(Message).where(Message.id == message.id).values(meta=meta))
    publish(session, conv.workspace_id, Live.MESSAGE_UPDATED,
            {"conversation_id": str(conv.id), "message_id": str(message.id),
             "accepted_solution": accepted})
    if not accepted:
        if SOLVED in (conv.labels or []) and not _other_solution(session, conv, message.id):
            conv.labels = sorted(set(conv.labels or []) - {SOLVED})
        audit(session, conv.workspace_id, "community.solution_withdrawn", "conversation",
              conv.id, data={"message_id": str(message.id)})
        return True
    audit(session, conv.workspace_id, "community.solution_accepted", "conversation", conv.id,
          data={"message_id": str(message.id)})
    if watching(conv):
        conclude(session, conv, SOLVED, "solved")
    else:
        if is_community(conv):
            conv.labels = sorted({*(conv.labels or []), SOLVED})
        publish(session, conv.workspace_id, Live.CONVERSATION_UPDATED,
                {"conversation_id": str(conv.id), "action": "community.solution_accepted",
                 "status": conv.status})
    return True


def _other_solution(session: Session, conv: Conversation, but: uuid.UUID) -> bool:
    return _has_solution(session, conv, but=but)


def _has_solution(session: Session, conv: Conversation, *,
                  but: uuid.UUID | None = None) -> bool:
    """A post of the topic is marked as its accepted solution."""
    stmt = select(Message.meta).where(Message.conversation_id == conv.id,
                                      Message.channel == CHANNEL)
    if but is not None:
        stmt = stmt.where(Message.id != but)
    return any((meta or {}).get("accepted_solution") for meta in session.scalars(stmt))
