"""The KPI tables (migration 0018). `conversation_facts` is one row per conversation that
the dashboards read; episodes and segments divide a conversation in time and by channel;
`agent_activity` holds the intervals of active handle time. Column names are a contract
with the dashboards (docs/kpis.md); the columns under "bookkeeping" are the incremental
update's own state and are not KPIs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, utcnow

CONVERSATION_FK = "conversations.id"


class ConversationFacts(Base):
    """The facts of one conversation, kept up to date by the worker (kpis.tracking) and
    rebuilt from the stored messages and events by `kpis.recompute`."""

    __tablename__ = "conversation_facts"
    __table_args__ = (
        Index("ix_conversation_facts_opened", "workspace_id", "opened_at"),
        Index("ix_conversation_facts_resolved", "workspace_id", "resolved_at"),
        # first-contact resolution: a customer's earlier resolutions when he comes back
        Index("ix_conversation_facts_customer", "customer_id", "first_resolved_at"),
    )

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(CONVERSATION_FK, ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    customer_id: Mapped[uuid.UUID | None]
    team_id: Mapped[uuid.UUID | None]
    assignee_id: Mapped[uuid.UUID | None]
    resolved_by_id: Mapped[uuid.UUID | None]
    category: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(default=4)
    relevance: Mapped[str | None] = mapped_column(String(16))
    origin_channel: Mapped[str | None] = mapped_column(String(32))
    origin_visibility: Mapped[str | None] = mapped_column(String(16))
    origin_account_id: Mapped[uuid.UUID | None]
    origin_source: Mapped[str | None] = mapped_column(String(40))
    last_channel: Mapped[str | None] = mapped_column(String(32))
    last_visibility: Mapped[str | None] = mapped_column(String(16))
    resolved_channel: Mapped[str | None] = mapped_column(String(32))
    resolved_visibility: Mapped[str | None] = mapped_column(String(16))
    journey: Mapped[str] = mapped_column(String(400), default="")
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    first_response_s: Mapped[float | None]
    first_response_business_s: Mapped[float | None]
    next_responses: Mapped[int] = mapped_column(default=0)
    next_response_total_s: Mapped[float] = mapped_column(default=0.0)
    next_response_max_s: Mapped[float | None]
    resolution_s: Mapped[float | None]
    resolution_business_s: Mapped[float | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    customer_messages: Mapped[int] = mapped_column(default=0)
    agent_messages: Mapped[int] = mapped_column(default=0)
    episodes: Mapped[int] = mapped_column(default=0)
    segments: Mapped[int] = mapped_column(default=0)
    channels: Mapped[int] = mapped_column(default=0)
    handle_s: Mapped[float] = mapped_column(default=0.0)
    public_to_private: Mapped[bool] = mapped_column(default=False)
    hop_offered_s: Mapped[float | None]
    hop_taken: Mapped[bool | None]
    returned_to_origin: Mapped[bool | None]
    return_delay_s: Mapped[float | None]
    fcr: Mapped[bool | None]
    sla_first_response_met: Mapped[bool | None]
    sla_resolution_met: Mapped[bool | None]
    sentiment_start: Mapped[str | None] = mapped_column(String(16))
    sentiment_end: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # --- bookkeeping of the incremental update (not KPIs) ---
    waiting_since: Mapped[datetime | None]  # the first customer message not answered yet
    open_since: Mapped[datetime | None]  # the start of the open period (None: resolved)
    first_resolved_at: Mapped[datetime | None]  # the first resolution (FCR's reference)
    cursor_at: Mapped[datetime | None]  # the last message or status change taken into
    cursor_key: Mapped[str | None] = mapped_column(String(48))  # account, and its key
    status_cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # the last audit row


class ConversationEpisode(IdMixin, Base):
    """A burst of activity: the first message starts one, and so does a message after
    `silence_hours` without one, or a reopening."""

    __tablename__ = "conversation_episodes"
    __table_args__ = (UniqueConstraint("conversation_id", "number"),
                      Index("ix_conversation_episodes_started", "workspace_id", "started_at"))

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(CONVERSATION_FK, ondelete="CASCADE"))
    number: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16))  # start | silence | reopen
    started_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    customer_messages: Mapped[int] = mapped_column(default=0)
    agent_messages: Mapped[int] = mapped_column(default=0)
    first_response_s: Mapped[float | None]
    resolved_at: Mapped[datetime | None]


class ConversationSegment(IdMixin, Base):
    """A run of messages on one channel and visibility (notes are not messages here)."""

    __tablename__ = "conversation_segments"
    __table_args__ = (UniqueConstraint("conversation_id", "number"),
                      Index("ix_conversation_segments_started", "workspace_id", "started_at"))

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(CONVERSATION_FK, ondelete="CASCADE"))
    number: Mapped[int]
    channel: Mapped[str] = mapped_column(String(32))
    visibility: Mapped[str] = mapped_column(String(16))
    channel_account_id: Mapped[uuid.UUID | None]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    messages: Mapped[int] = mapped_column(default=0)


class AgentActivity(IdMixin, Base):
    """An interval of active handle time: the desktop's focus and typing reports (merged
    while they follow each other) and calls (their duration, from the call's message)."""

    __tablename__ = "agent_activity"
    __table_args__ = (Index("ix_agent_activity_workspace_started", "workspace_id", "started_at"),
                      Index("ix_agent_activity_agent_ended", "agent_id", "ended_at"),
                      Index("ix_agent_activity_conversation", "conversation_id", "kind"))

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    # None: a call no agent is recorded on (a customer's call that reached nobody's desktop)
    agent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(CONVERSATION_FK, ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # focus | typing | call
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    seconds: Mapped[float] = mapped_column(default=0.0)
    # the call's message (kind call): one row per call, rebuilt from the messages
    message_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
