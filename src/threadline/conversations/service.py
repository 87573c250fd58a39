"""Conversations: read, list, change state, split and merge. Services never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer
from threadline.conversations import inbox
from threadline.conversations.inbox import InboxFilter
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.queue import check_priority, most_relevant
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, ValidationFailed
from threadline.events.names import Live
from threadline.events.service import ConversationEvent, audit, conversation_event, publish
from threadline.workspace.models import Agent, Team


@dataclass(frozen=True)
class Actor:
    type: str  # agent | token | system | customer
    id: str | None = None
    agent_id: uuid.UUID | None = None


SYSTEM = Actor("system")


def access_conversation(session: Session, workspace_id: uuid.UUID,
                        conversation_id: uuid.UUID) -> Conversation:
    conv = session.scalar(select(Conversation).where(Conversation.id == conversation_id,
                                                     Conversation.workspace_id == workspace_id))
    if conv is None:
        raise NotFound("conversation not found")
    return conv


def conversation_view(session: Session, workspace_id: uuid.UUID, conversation_id: uuid.UUID,
                      ) -> tuple[Conversation, Customer | None, list[Message]]:
    """A conversation, its customer and every message: two queries whatever the size."""
    row = session.execute(
        select(Conversation, Customer)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.id == conversation_id, Conversation.workspace_id == workspace_id)
    ).first()
    if row is None:
        raise NotFound("conversation not found")
    conv, customer = row
    messages = list(session.scalars(
        select(Message).where(Message.conversation_id == conv.id)
        .order_by(Message.created_at, Message.id)))
    return conv, customer, messages


def list_conversations(session: Session, workspace_id: uuid.UUID, flt: InboxFilter, *,
                       limit: int = 50, cursor: str | None = None,
                       ) -> tuple[list[Conversation], str | None]:
    """Conversations newest activity first, keyset-paginated (the inbox's query)."""
    found, next_cursor = inbox.page(session, workspace_id, flt, limit=limit, cursor=cursor)
    return [conv for conv, _name in found], next_cursor


# --- state changes ---------------------------------------------------------------------------


def _changed(session: Session, conv: Conversation, action: str, actor: Actor,
             data: dict[str, Any]) -> None:
    conv.updated_at = utcnow()
    audit(session, conv.workspace_id, action, "conversation", conv.id, actor_type=actor.type,
          actor_id=actor.id, data=data)
    publish(session, conv.workspace_id, Live.CONVERSATION_UPDATED,
            {"conversation_id": str(conv.id), "action": action, "status": conv.status})


def set_status(session: Session, conv: Conversation, status: str, actor: Actor, *,
               snooze_until: datetime | None = None) -> Conversation:
    if status not in Status.ALL:
        raise ValidationFailed(f"status must be one of {', '.join(Status.ALL)}")
    if conv.merged_into_id is not None:
        raise ValidationFailed("this conversation was merged into another",
                               code="conversation_merged")
    if status == Status.SNOOZED and snooze_until is None:
        raise ValidationFailed("snoozing needs a time to wake up (snooze_until)")
    previous = conv.status
    if previous == status:
        return conv
    conv.status = status
    now = utcnow()
    if status == Status.RESOLVED:
        conv.resolved_at = now
    if status in (Status.RESOLVED, Status.CLOSED):
        conv.sla_due_at = None
    if previous in (Status.RESOLVED, Status.CLOSED) and status in Status.ACTIVE:
        conv.reopen_count += 1
    conv.snoozed_until = snooze_until if status == Status.SNOOZED else None
    _changed(session, conv, f"conversation.{status}", actor,
             {"from": previous, "to": status})
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.STATUS_CHANGED,
                       **{"from": previous, "to": status})
    return conv


def assign(session: Session, conv: Conversation, agent_id: uuid.UUID | None,
           actor: Actor, *, team_id: uuid.UUID | None = None) -> Conversation:
    """Agent and team must be of the conversation's workspace (404 otherwise)."""
    agent = session.get(Agent, agent_id) if agent_id is not None else None
    if agent_id is not None and (agent is None or agent.workspace_id != conv.workspace_id):
        raise NotFound("agent not found", code="agent_not_found")
    team = session.get(Team, team_id) if team_id is not None else None
    if team_id is not None and (team is None or team.workspace_id != conv.workspace_id):
        raise NotFound("team not found", code="team_not_found")
    conv.assignee_id = agent_id
    if team_id is not None:
        conv.team_id = team_id
    # A person's assignment is never undone by the router (routing sets "router" itself).
    conv.routed_by = "manual" if actor.type in ("agent", "token") else actor.type
    _changed(session, conv, "conversation.assigned", actor,
             {"assignee_id": str(agent_id) if agent_id else None})
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.ASSIGNED,
                       assignee_id=str(agent_id) if agent_id else None,
                       team_id=str(conv.team_id) if conv.team_id else None, by=actor.type)
    return conv


def set_labels(session: Session, conv: Conversation, labels: list[str],
               actor: Actor) -> Conversation:
    clean = sorted({label.strip() for label in labels if label.strip()})
    conv.labels = clean
    _changed(session, conv, "conversation.labelled", actor, {"labels": clean})
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.UPDATED,
                       fields=["labels"])
    return conv


def set_triage_fields(session: Session, conv: Conversation, changes: dict[str, Any],
                      actor: Actor) -> Conversation:
    allowed = {"category", "sentiment", "priority", "language"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"unknown fields: {', '.join(sorted(unknown))}")
    if "priority" in changes:
        changes = {**changes, "priority": check_priority(changes["priority"])}
    for key, value in changes.items():
        setattr(conv, key, value)
    _changed(session, conv, "conversation.classified", actor, dict(changes))
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.UPDATED,
                       fields=sorted(changes))
    return conv


# --- split and merge -------------------------------------------------------------------------


def refresh_counters(session: Session, conv: Conversation) -> None:
    row = session.execute(
        select(func.count(Message.id), func.max(Message.created_at))
        .where(Message.conversation_id == conv.id)).one()
    conv.message_count = int(row[0] or 0)
    if row[1] is not None:
        conv.last_message_at = row[1]


def merge_conversations(session: Session, source: Conversation, target: Conversation,
                        actor: Actor) -> Conversation:
    """Move every message of `source` into `target`; `source` stays as a closed pointer."""
    if source.id == target.id:
        raise ValidationFailed("cannot merge a conversation into itself")
    if source.workspace_id != target.workspace_id:
        raise NotFound("conversation not found")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise ValidationFailed("conversation already merged", code="conversation_merged")
    result: Any = session.execute(update(Message).where(Message.conversation_id == source.id)
                                  .values(conversation_id=target.id))
    moved = int(result.rowcount or 0)
    source.merged_into_id = target.id
    source.status = Status.CLOSED
    source.message_count = 0
    refresh_counters(session, target)
    target.priority = min(target.priority, source.priority)  # the most urgent (P1 first)
    target.relevance = most_relevant(target.relevance, source.relevance)
    if source.created_at < target.created_at:
        target.created_at = source.created_at
    _changed(session, source, Live.CONVERSATION_MERGED, actor,
             {"into": str(target.id), "messages": moved})
    _changed(session, target, "conversation.merged_in", actor,
             {"from": str(source.id), "messages": moved})
    conversation_event(session, target.workspace_id, target.id, ConversationEvent.MERGED,
                       other_id=str(source.id))
    return target


def _relevance_of(messages: list[Message]) -> str | None:
    found: str | None = None
    for message in messages:
        if message.direction == "inbound" and message.kind != "note":
            found = most_relevant(found, (message.triage or {}).get("relevance"))
    return found


def split_conversation(session: Session, conv: Conversation, message_ids: list[uuid.UUID],
                       actor: Actor) -> Conversation:
    """Move the given messages to a new conversation of the same customer."""
    if not message_ids:
        raise ValidationFailed("choose at least one message to split off")
    messages = list(session.scalars(select(Message).where(Message.id.in_(message_ids),
                                                          Message.conversation_id == conv.id)))
    if len(messages) != len(set(message_ids)):
        raise ValidationFailed("every message must belong to this conversation",
                               code="foreign_message")
    if len(messages) >= conv.message_count:
        raise ValidationFailed("a split must leave at least one message behind")
    first = min(messages, key=lambda m: m.created_at)
    new = Conversation(id=new_id(), workspace_id=conv.workspace_id,
                       customer_id=conv.customer_id, status=Status.OPEN,
                       origin_message_id=first.id, origin_channel=first.channel,
                       origin_visibility=first.visibility,
                       origin_account_id=first.channel_account_id, labels=[],
                       created_at=first.created_at, last_message_at=first.created_at,
                       updated_at=utcnow(), message_count=0, priority=conv.priority,
                       relevance=_relevance_of(messages))
    session.add(new)
    session.flush()
    session.execute(update(Message).where(Message.id.in_([m.id for m in messages]))
                    .values(conversation_id=new.id))
    refresh_counters(session, new)
    refresh_counters(session, conv)
    _changed(session, conv, "conversation.split", actor,
             {"new_conversation_id": str(new.id), "messages": len(messages)})
    _changed(session, new, "conversation.split_from", actor, {"from": str(conv.id)})
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.SPLIT,
                       other_id=str(new.id))
    return new
