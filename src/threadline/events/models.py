"""Durable work: the inbox of raw provider events, the outbox of side effects (and timers),
the real-time stream, and the append-only audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, utcnow
from threadline.db.redacted import RedactedJSON, RedactedText

# An integer primary key that autoincrements on both SQLite and PostgreSQL.
SeqId = BigInteger().with_variant(Integer(), "sqlite")


class WorkStatus:
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class InboundEvent(Base):
    """A raw provider event, stored before the provider gets its 2xx."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("channel_account_id", "provider_event_id"),
        Index("ix_inbound_events_pending", "status", "next_attempt_at"),
        Index("ix_inbound_events_unpurged", "purged_at", "received_at"),
        Index("ix_inbound_events_claimed", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    channel_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channel_accounts.id"))
    provider_event_id: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=WorkStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(RedactedText)
    processed_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]  # raw payload emptied after its retention
    request_id: Mapped[str | None] = mapped_column(String(64))  # the web request that stored it
    # PostgreSQL, several workers: the batch running it holds it until then, and the keys
    # (hashed) of what it touches, so no other batch runs a later event sharing one (0334)
    claimed_until: Mapped[datetime | None]
    claim_keys: Mapped[list[Any] | None]


class OutboxJob(Base):
    """A side effect or timer written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "due_at"),)

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("workspaces.id"),
                                                           index=True)
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(RedactedJSON)
    status: Mapped[str] = mapped_column(String(16), default=WorkStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(RedactedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    request_id: Mapped[str | None] = mapped_column(String(64))  # the request or job behind it


class StreamEvent(Base):
    """A real-time event for the desktops. Its `position` is the SSE id (Last-Event-ID
    replay): positions grow in the order the events became visible, which ids do not
    (decision 0317). SQLite gives an event its id as position when it is inserted (one writer
    at a time: id order is commit order); on PostgreSQL the position is given after commit by
    `events.service.sequence_stream`, and the readers read by position only."""

    __tablename__ = "stream_events"
    __table_args__ = (Index("ix_stream_events_ws_position", "workspace_id", "position"),)

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(RedactedJSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    position: Mapped[int | None] = mapped_column(BigInteger)


class AuditEvent(Base):
    """Append-only record of every state change and every message."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(16))  # agent | customer | system | token
    actor_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(RedactedJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
