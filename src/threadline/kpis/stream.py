"""A conversation's history as the fold reads it (kpis.rules.Item): its messages from the
`ix_messages_conversation` index (conversation, time) and its status changes from the audit
(`ix_audit_events_subject`). Only the columns the fold needs are read (never a message's
text); a call's record (`meta`) only for calls."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from threadline.conversations.models import Message
from threadline.csat.models import CsatSurveyDetails
from threadline.events.models import AuditEvent
from threadline.kpis.rules import (
    ACTIVE,
    RESOLVED,
    Item,
    call_seconds,
    message_key,
    sentiment_of,
    status_key,
)

NOT_MESSAGES = ("note",)  # kinds the fold skips
NOT_SENT = ("held", "rejected")  # replies awaiting approval, or rejected: never sent
STATUS_ACTIONS = tuple(f"conversation.{status}" for status in (*ACTIVE, *RESOLVED))


def _counted() -> list[Any]:
    """Notes, replies never sent and satisfaction surveys (automation's messages that a
    survey names) are not part of the conversation's figures."""
    survey = select(CsatSurveyDetails.survey_id).where(
        CsatSurveyDetails.message_id == Message.id)
    return [Message.kind.not_in(NOT_MESSAGES), Message.delivery.not_in(NOT_SENT),
            or_(Message.author_type != "automation", ~survey.exists())]


def messages(session: Session, conversation_id: uuid.UUID,
             since: datetime | None = None) -> list[Item]:
    """The conversation's messages (from `since` on, inclusive), in fold order."""
    stmt = select(Message.id, Message.created_at, Message.direction, Message.channel,
                  Message.visibility, Message.channel_account_id, Message.author_agent_id,
                  Message.kind, Message.triage).where(
        Message.conversation_id == conversation_id, *_counted())
    if since is not None:
        stmt = stmt.where(Message.created_at >= since)
    rows = session.execute(stmt).all()
    calls = [row.id for row in rows if row.kind == "call"]
    metas: dict[uuid.UUID, Any] = {}
    if calls:
        metas = {row.id: row.meta for row in session.execute(
            select(Message.id, Message.meta).where(Message.id.in_(calls)))}
    items = [Item(at=row.created_at, key=message_key(row.id), inbound=row.direction == "inbound",
                  channel=row.channel, visibility=row.visibility,
                  account_id=row.channel_account_id, agent_id=row.author_agent_id,
                  sentiment=sentiment_of(row.triage) if row.direction == "inbound" else None,
                  call_seconds=call_seconds(row.kind, metas.get(row.id)), message_id=row.id)
             for row in rows]
    items.sort(key=lambda i: i.order)
    return items


def counted_through(session: Session, conversation_id: uuid.UUID, at: datetime) -> int:
    """How many of the conversation's messages are at or before `at` (a late message check:
    compared with the number the fold has counted)."""
    return int(session.scalar(select(func.count()).select_from(Message).where(
        Message.conversation_id == conversation_id, Message.created_at <= at,
        *_counted())) or 0)


def statuses(session: Session, conversation_id: uuid.UUID,
             after: int = 0) -> list[Item]:
    """Status changes made by agents, rules and tokens (audit ids above `after`)."""
    rows = session.execute(
        select(AuditEvent.id, AuditEvent.created_at, AuditEvent.action, AuditEvent.actor_type,
               AuditEvent.actor_id)
        .where(AuditEvent.subject_type == "conversation",
               AuditEvent.subject_id == str(conversation_id),
               AuditEvent.action.in_(STATUS_ACTIONS), AuditEvent.id > after)).all()
    items = [Item(at=row.created_at, key=status_key(row.id),
                  status=row.action.split(".", 1)[1],
                  agent_id=_agent(row.actor_type, row.actor_id)) for row in rows]
    items.sort(key=lambda i: i.order)
    return items


def audit_id(item: Item) -> int:
    return int(item.key[2:])


def _agent(actor_type: str, actor_id: str | None) -> uuid.UUID | None:
    if actor_type != "agent" or not actor_id:
        return None
    try:
        return uuid.UUID(actor_id)
    except ValueError:
        return None
