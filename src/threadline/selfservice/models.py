"""The bot's records: one session per conversation it looked at (its state and outcome, what
the KPIs count), and one row per customer message it replied to (what makes a reply happen
once, however often its job runs)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, utcnow


class BotState:
    BOT = "bot"  # the bot answered and waits for the customer (the conversation is snoozed)
    HANDED_OVER = "handed_over"  # in the live queue: routing and service levels apply
    DEFLECTED = "deflected"  # resolved without an agent
    ALL = (BOT, HANDED_OVER, DEFLECTED)


class Reason:
    # handovers
    ASKED = "asked_for_person"
    COMPLAINT = "complaint"
    LOW_CONFIDENCE = "low_confidence"
    SECOND_QUESTION = "second_question"
    CAME_BACK = "came_back"  # wrote again after a deflection
    TAKEN = "taken"  # a person took the conversation while the bot held it
    # deflections
    CONFIRMED = "confirmed"
    TIMEOUT = "no_reply"
    HANDOVERS = (ASKED, COMPLAINT, LOW_CONFIDENCE, SECOND_QUESTION, CAME_BACK, TAKEN)
    DEFLECTIONS = (CONFIRMED, TIMEOUT)


class ReplyKind:
    ANSWER = "answer"  # an article's answer
    CLOSED = "closed"  # handed over outside business hours: when a person will answer


class BotSession(Base):
    __tablename__ = "selfservice_sessions"
    __table_args__ = (Index("ix_selfservice_sessions_workspace_started", "workspace_id",
                            "started_at"),)

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    channel_account_id: Mapped[uuid.UUID | None]
    channel: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    answers: Mapped[int] = mapped_column(default=0)
    last_message_id: Mapped[uuid.UUID | None]  # the latest customer message it looked at
    last_answer_id: Mapped[uuid.UUID | None]  # the bot's latest answer (a message)
    article_id: Mapped[uuid.UUID | None]  # the article of the latest answer
    confidence: Mapped[float | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class BotReply(IdMixin, Base):
    """What the bot sent for one customer message (unique: a job run twice sends nothing
    more)."""

    __tablename__ = "selfservice_replies"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    inbound_message_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    article_id: Mapped[uuid.UUID | None]
    confidence: Mapped[float | None]
    message_id: Mapped[uuid.UUID | None]  # the bot's message (None: nothing could be sent)
    outcome: Mapped[str | None] = mapped_column(String(32))  # why nothing was sent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
