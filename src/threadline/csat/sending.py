"""Sending a survey: when a conversation is resolved, a `csat.send` job is due after the
workspace's delay; it decides (once, under the workspace's "csat" lock) whether and where to
ask, and writes the survey, its message and the `csat.deliver` job in one transaction. The
delivery runs the sender's crash-safe steps (outbound/sender.py) and marks the survey failed
when the provider refuses it.

Where: the channel the conversation ended on (its last message), when that is a private
channel that can carry a survey. A conversation that ended in public (or on a call) is asked
privately only where the customer has written to us privately (in this conversation first,
else in his others of the last 30 days); otherwise nobody is asked: a survey is never a public
post (docs/csat.md#where-the-survey-goes).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.adapters.config import account_config
from threadline.channels.base import (
    ChannelError,
    OutboundMessage,
    SendContext,
    SendPolicyError,
    Visibility,
)
from threadline.channels.registry import get_adapter
from threadline.config import Settings
from threadline.contacts.models import Identity
from threadline.conversations.models import Conversation, Message, Status
from threadline.csat import rules
from threadline.csat.models import CsatSurvey, CsatSurveyDetails, Method, SurveyStatus
from threadline.csat.settings import CsatSettings, csat_settings
from threadline.db.base import new_id, utcnow
from threadline.db.locks import workspace_lock
from threadline.events.names import Live
from threadline.events.service import ConversationEvent, audit, enqueue, publish
from threadline.hops.records.links import hash_code, new_code
from threadline.jobs.hooks import ConversationEvents, conversation_hook
from threadline.jobs.registry import Job, PermanentFailure, handler
from threadline.jobs.runtime import Runtime
from threadline.outbound.sender import begin_attempt, conclude, deliver
from threadline.workspace.models import ChannelAccount

CSAT_STAGE = 40  # after automation, routing and service levels (jobs/hooks.py)
SEND_JOB = "csat.send"
DELIVER_JOB = "csat.deliver"
EXPIRE_JOB = "csat.expire"
LOCK = "csat"
PRIVATE_LOOKBACK = timedelta(days=30)
CANDIDATES = 20
LINK_PATH = "/r/"
EMAIL_SUBJECT = "How did we do?"
SPAM_LABEL = "spam"  # automation's "resolve as spam" (automation/actions.py)


@dataclass(frozen=True)
class Target:
    account: ChannelAccount
    method: str
    anchor: Message  # the customer's latest private message on that account
    identity: Identity
    same_conversation: bool


class Skip(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- after the resolution ---------------------------------------------------------------------


@conversation_hook(CSAT_STAGE, "csat")
def on_resolved(runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    """A resolution schedules the survey after the workspace's delay (the job decides)."""
    if not any(e.get("to") == Status.RESOLVED
               for e in batch.of(ConversationEvent.STATUS_CHANGED)):
        return
    settings = csat_settings(session, batch.workspace_id)
    if not settings.enabled:
        return
    conv = session.get(Conversation, batch.conversation_id)
    if conv is None or conv.status != Status.RESOLVED or conv.resolved_at is None:
        return
    enqueue(session, SEND_JOB, {"conversation_id": str(conv.id),
                                "resolved_at": conv.resolved_at.isoformat()},
            workspace_id=batch.workspace_id, delay=timedelta(minutes=settings.delay_minutes))


@handler(SEND_JOB)
def send_job(runtime: Runtime, job: Job) -> None:
    try:
        conversation_id = uuid.UUID(str(job.payload["conversation_id"]))
        resolved_at = datetime.fromisoformat(str(job.payload["resolved_at"]))
        workspace_id = uuid.UUID(str(job.workspace_id))
    except (KeyError, ValueError) as exc:
        raise PermanentFailure(f"malformed csat.send job: {type(exc).__name__}") from None
    with runtime.db.session() as session:
        plan_survey(session, runtime.settings, workspace_id, conversation_id, resolved_at)


def plan_survey(session: Session, settings: Settings, workspace_id: uuid.UUID,
                conversation_id: uuid.UUID, resolved_at: datetime) -> CsatSurvey | None:
    """Ask the customer of a resolved conversation, or record why not (`csat.skipped`)."""
    workspace_lock(session, workspace_id, LOCK)  # one decision at a time: once per period
    config = csat_settings(session, workspace_id)
    conv = session.get(Conversation, conversation_id)
    if (not config.enabled or conv is None or conv.workspace_id != workspace_id
            or conv.status != Status.RESOLVED or conv.resolved_at != resolved_at
            or conv.merged_into_id is not None):
        return None  # turned off, gone, reopened or resolved again (a later job decides)
    if session.scalar(select(CsatSurvey.id).where(
            CsatSurvey.conversation_id == conv.id,
            CsatSurvey.sent_at >= resolved_at).limit(1)) is not None:
        return None  # this resolution was asked already (a job run twice)
    now = utcnow()
    try:
        if conv.customer_id is None:
            raise Skip("no_customer")
        if SPAM_LABEL in (conv.labels or []):
            raise Skip("spam")  # resolved as spam (automation): nobody to ask
        if config.period_days and session.scalar(select(CsatSurvey.id).where(
                CsatSurvey.customer_id == conv.customer_id,
                CsatSurvey.status != SurveyStatus.FAILED,
                CsatSurvey.sent_at > now - timedelta(days=config.period_days))
                .limit(1)) is not None:
            raise Skip("surveyed_recently")
        target = find_target(session, settings, config, conv, now)
    except Skip as skip:
        audit(session, workspace_id, "csat.skipped", "conversation", conv.id,
              data={"reason": skip.reason})
        return None
    return _create(session, settings, config, conv, target, now)


# --- where ------------------------------------------------------------------------------------


def _last_message(session: Session, conv: Conversation) -> Message | None:
    return session.scalar(select(Message).where(
        Message.conversation_id == conv.id, Message.kind != "note",
        Message.deleted_at.is_(None), Message.channel_account_id.is_not(None),
        Message.delivery.not_in(("held", "rejected", "failed")))
        .order_by(Message.created_at.desc()).limit(1))


def _private_inbound(session: Session, conv: Conversation, now: datetime,
                     account_id: uuid.UUID | None = None) -> list[tuple[Message, Identity]]:
    """The customer's private messages to us, latest first: on one account of this
    conversation, or anywhere in his conversations of the last 30 days."""
    stmt = (select(Message, Identity).join(Identity, Identity.id == Message.identity_id)
            .where(Message.workspace_id == conv.workspace_id,
                   Identity.customer_id == conv.customer_id,
                   Message.direction == "inbound", Message.visibility == "private",
                   Message.deleted_at.is_(None), Message.channel_account_id.is_not(None)))
    latest = (Message.created_at.desc(),)
    if account_id is not None:
        rows = list(session.execute(stmt.where(Message.conversation_id == conv.id,
                                               Message.channel_account_id == account_id)
                                    .order_by(*latest).limit(CANDIDATES)))
    else:  # this conversation's own first, then his others
        rows = list(session.execute(stmt.where(Message.conversation_id == conv.id)
                                    .order_by(*latest).limit(CANDIDATES)))
        rows += session.execute(stmt.where(Message.conversation_id != conv.id,
                                           Message.created_at >= now - PRIVATE_LOOKBACK)
                                .order_by(*latest).limit(CANDIDATES))
    return [(m, i) for m, i in rows]


def find_target(session: Session, settings: Settings, config: CsatSettings,
                conv: Conversation, now: datetime) -> Target:
    last = _last_message(session, conv)
    if last is None:
        raise Skip("no_channel")
    ended_private = last.visibility == "private" and last.channel not in rules.SILENT_KINDS
    if ended_private:
        candidates = _private_inbound(session, conv, now, last.channel_account_id)
        if not candidates:
            raise Skip("customer_not_on_channel")
    else:  # ended in public (or on a call): his private channels, never a public post
        candidates = _private_inbound(session, conv, now)
        if not candidates:
            raise Skip("no_private_channel")
    reasons: list[str] = []
    seen: set[uuid.UUID] = set()
    for anchor, identity in candidates:
        if anchor.channel_account_id in seen:
            continue
        seen.add(anchor.channel_account_id)  # type: ignore[arg-type]
        try:
            return _usable(session, settings, config, conv, anchor, identity, now)
        except Skip as skip:
            reasons.append(skip.reason)
    raise Skip(reasons[0] if reasons else "no_private_channel")


def _usable(session: Session, settings: Settings, config: CsatSettings, conv: Conversation,
            anchor: Message, identity: Identity, now: datetime) -> Target:
    account = session.get(ChannelAccount, anchor.channel_account_id)
    if account is None or not account.active:
        raise Skip("account_disabled")
    method = rules.method_for(account.kind, account.config or {})
    if method is None:
        raise Skip("channel_cannot_ask")
    same = anchor.conversation_id == conv.id
    if method == Method.INLINE and not same:
        raise Skip("chat_of_another_conversation")  # its thread belongs to that one
    if method == Method.LINK and not settings.public_url:
        raise Skip("no_public_url")
    if (anchor.meta or {}).get("auto_reply"):
        raise Skip("auto_reply")  # never answer an auto-reply (decision 0200)
    probe = OutboundMessage(message_id=str(new_id()), visibility=Visibility.PRIVATE,
                            text=config.question, recipient=identity.address,
                            thread_key=anchor.thread_key,
                            options=_options(account.kind, method, new_id(), config, anchor,
                                             conv))
    last = session.scalar(select(Message.created_at).where(
        Message.channel_account_id == account.id, Message.identity_id == identity.id,
        Message.direction == "inbound", Message.visibility == "private")
        .order_by(Message.created_at.desc()).limit(1))
    try:
        get_adapter(account.kind).check_send(account_config(account), probe,
                                             SendContext(now=now, last_inbound_at=last))
    except SendPolicyError as exc:
        raise Skip(exc.code) from None
    except ChannelError as exc:
        raise Skip(exc.code) from None
    return Target(account=account, method=method, anchor=anchor, identity=identity,
                  same_conversation=same)


def _options(kind: str, method: str, survey_id: uuid.UUID, config: CsatSettings,
             anchor: Message, conv: Conversation) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if method == Method.QUICK_REPLIES or (method == Method.BUTTONS and kind == "telegram"):
        options["choices"] = rules.scale_choices(survey_id)
    elif method == Method.BUTTONS:  # WhatsApp
        options["choices"] = rules.whatsapp_choices(survey_id, config.whatsapp_style)
        if config.whatsapp_style == "list":
            options.update(choices_style="list", choices_button=rules.LIST_BUTTON)
    if kind == "email":
        options["subject"] = anchor.subject or conv.subject or EMAIL_SUBJECT
        options["references"] = [p for p in dict.fromkeys(
            (anchor.root_provider_id, anchor.provider_id)) if p and p.startswith("<")]
        options["automatic"] = True  # Auto-Submitted: auto-replied (decision 0200)
    return options


# --- the survey, its message and its jobs -----------------------------------------------------


def _create(session: Session, settings: Settings, config: CsatSettings, conv: Conversation,
            target: Target, now: datetime) -> CsatSurvey:
    account, anchor = target.account, target.anchor
    survey_id = new_id()
    code = new_code() if target.method == Method.LINK else None
    url = f"{(settings.public_url or '').rstrip('/')}{LINK_PATH}{code}" if code else None
    survey = CsatSurvey(id=survey_id, workspace_id=conv.workspace_id, conversation_id=conv.id,
                        customer_id=conv.customer_id, channel=account.kind,
                        channel_account_id=account.id, method=target.method,
                        status=SurveyStatus.SENT, sent_at=now,
                        token_hash=hash_code(code) if code else None)
    session.add(survey)
    session.flush()
    options = _options(account.kind, target.method, survey_id, config, anchor, conv)
    message = Message(
        id=new_id(), workspace_id=conv.workspace_id, conversation_id=conv.id,
        channel_account_id=account.id, channel=account.kind, direction="outbound",
        visibility="private", kind="message",
        text=rules.survey_text(config.question, target.method, url), delivery="pending",
        author_type="automation",
        reply_to_provider_id=anchor.provider_id if account.kind == "email" else None,
        # the survey joins the customer's thread only in its own conversation (a thread's
        # latest message decides where his next one goes: docs/threading.md)
        thread_key=anchor.thread_key if target.same_conversation else None,
        created_at=now, attachments=[], triage={},
        meta={"recipient": target.identity.address, "options": options,
              "csat": {"survey_id": str(survey_id), "method": target.method}})
    session.add(message)
    conv.message_count += 1
    session.flush()
    session.add(CsatSurveyDetails(
        survey_id=survey_id, workspace_id=conv.workspace_id, message_id=message.id,
        identity_id=target.identity.id, question=config.question,
        expires_at=now + timedelta(days=config.expire_days),
        text_until=now + timedelta(hours=config.text_reply_hours)))
    enqueue(session, DELIVER_JOB, {"message_id": str(message.id),
                                   "survey_id": str(survey_id)}, workspace_id=conv.workspace_id)
    enqueue(session, EXPIRE_JOB, {"survey_id": str(survey_id)}, workspace_id=conv.workspace_id,
            due_at=now + timedelta(days=config.expire_days))
    audit(session, conv.workspace_id, "csat.sent", "conversation", conv.id,
          data={"survey_id": str(survey_id), "channel": account.kind,
                "method": target.method, "message_id": str(message.id)})
    publish(session, conv.workspace_id, Live.MESSAGE_CREATED,
            {"conversation_id": str(conv.id), "message_id": str(message.id),
             "direction": "outbound"})
    return survey


@handler(DELIVER_JOB)
def deliver_job(runtime: Runtime, job: Job) -> None:
    """The sender's steps; a message the provider refused makes the survey failed."""
    try:
        message_id = uuid.UUID(str(job.payload["message_id"]))
        survey_id = uuid.UUID(str(job.payload["survey_id"]))
    except (KeyError, ValueError) as exc:
        raise PermanentFailure(f"malformed csat.deliver job: {type(exc).__name__}") from None
    plan = begin_attempt(runtime, message_id)
    if plan is not None:
        conclude(runtime, plan, deliver(runtime, plan), attempts=job.attempts)  # may retry
    with runtime.db.session() as session:
        survey = session.get(CsatSurvey, survey_id)
        message = session.get(Message, message_id)
        if survey is None or message is None or message.delivery != "failed" \
                or survey.status != SurveyStatus.SENT:
            return
        survey.status = SurveyStatus.FAILED
        audit(session, survey.workspace_id, "csat.failed", "conversation",
              survey.conversation_id, data={"survey_id": str(survey.id),
                                            "code": (message.meta or {}).get("send", {})
                                            .get("last_code")})


@handler(EXPIRE_JOB)
def expire_job(runtime: Runtime, job: Job) -> None:
    try:
        survey_id = uuid.UUID(str(job.payload["survey_id"]))
    except (KeyError, ValueError) as exc:
        raise PermanentFailure(f"malformed csat.expire job: {type(exc).__name__}") from None
    with runtime.db.session() as session:
        survey = session.get(CsatSurvey, survey_id)
        if survey is not None and survey.status == SurveyStatus.SENT:
            survey.status = SurveyStatus.EXPIRED
