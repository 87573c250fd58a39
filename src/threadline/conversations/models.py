"""Conversations (the case, the unit of work and measure) and their messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, utcnow
from threadline.db.redacted import RedactedJSON, RedactedText


class Status:
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ALL = ("open", "pending", "snoozed", "resolved", "closed")
    ACTIVE = ("open", "pending", "snoozed")


class Conversation(IdMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_inbox", "workspace_id", "last_message_at", "id"),
        Index("ix_conversations_customer", "customer_id", "status"),
        # routing: an agent's load per kind of work (one grouped count), a team's queue
        Index("ix_conversations_load", "assignee_id", "work_kind", "status"),
        Index("ix_conversations_team_queue", "team_id", "assignee_id", "status", "queued_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(16), default=Status.OPEN)
    origin_message_id: Mapped[uuid.UUID | None]
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    origin_visibility: Mapped[str | None] = mapped_column(String(16))
    origin_account_id: Mapped[uuid.UUID | None]
    subject: Mapped[str | None] = mapped_column(RedactedText)
    category: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(default=4)  # 1 = P1 (most urgent) .. 4 = P4
    # triage's relevance of its most relevant customer message: direct | mention | competitor
    # | chatter; None when no customer message was triaged (conversations/queue.py)
    relevance: Mapped[str | None] = mapped_column(String(16))
    sentiment: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    labels: Mapped[list[Any]] = mapped_column(default=list)
    sla_due_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    message_count: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_inbound_at: Mapped[datetime | None]
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("conversations.id"))
    # Routing (routing/, migration 0013): the kind of work (realtime | delayed), the skills
    # an agent needs for it, who made the assignment (router | manual | system) and why, when
    # it entered its team's queue and when the router decided.
    work_kind: Mapped[str | None] = mapped_column(String(16))
    required_skills: Mapped[list[Any]] = mapped_column(default=list)
    routed_by: Mapped[str | None] = mapped_column(String(16))
    routed_reason: Mapped[str | None] = mapped_column(String(400))
    routed_at: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(IdMixin, Base):
    """One inbound or outbound message, internal note or call record."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_account_id", "provider_id"),
        Index("ix_messages_conversation", "conversation_id", "created_at"),
        Index("ix_messages_provider", "workspace_id", "provider_id"),
        Index("ix_messages_reply_to", "workspace_id", "reply_to_provider_id"),
        Index("ix_messages_thread", "channel_account_id", "thread_key", "created_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    channel_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channel_accounts.id"))
    channel: Mapped[str] = mapped_column(String(32))  # the account kind, or "note"
    identity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identities.id"))
    direction: Mapped[str] = mapped_column(String(16))  # inbound | outbound
    visibility: Mapped[str] = mapped_column(String(16))  # public | private
    kind: Mapped[str] = mapped_column(String(16), default="message")  # message|post|comment|
    #                                                                   call|note
    provider_id: Mapped[str | None] = mapped_column(String(255))
    reply_to_provider_id: Mapped[str | None] = mapped_column(String(255))
    root_provider_id: Mapped[str | None] = mapped_column(String(255))
    thread_key: Mapped[str | None] = mapped_column(String(255))
    # card data, SSNs and passwords never stored in clear (db/redacted.py)
    text: Mapped[str] = mapped_column(RedactedText, default="")
    html: Mapped[str | None] = mapped_column(RedactedText)
    subject: Mapped[str | None] = mapped_column(RedactedText)
    attachments: Mapped[list[Any]] = mapped_column(RedactedJSON, default=list)
    provider_created_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivery: Mapped[str] = mapped_column(String(16), default="received")
    delivery_error: Mapped[str | None] = mapped_column(RedactedText)
    author_type: Mapped[str] = mapped_column(String(16))  # customer|agent|automation|external
    author_agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    triage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(RedactedJSON, default=dict)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


# The agents' queue (migration 0017, conversations/queue.py::candidates): read in order per
# status, due time first; relevance and merged_into_id ride along to filter in the index.
Index("ix_conversations_queue", Conversation.workspace_id, Conversation.status,
      Conversation.sla_due_at, Conversation.priority,
      func.coalesce(Conversation.last_inbound_at, Conversation.created_at), Conversation.id,
      Conversation.relevance, Conversation.merged_into_id)
