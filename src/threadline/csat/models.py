"""The surveys (`csat_surveys`, a table the KPI dashboards read: its columns are a contract,
docs/csat.md#the-tables) and what the flow needs beside them (`csat_survey_details`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, utcnow
from threadline.db.redacted import RedactedText


class SurveyStatus:
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    FAILED = "failed"
    ALL = ("sent", "answered", "expired", "failed")


class Method:
    QUICK_REPLIES = "quick_replies"  # Messenger, Instagram
    BUTTONS = "buttons"  # WhatsApp reply buttons (or list rows), Telegram inline keyboard
    INLINE = "inline"  # the web chat widget's rating
    LINK = "link"  # a short link to a small public page (SMS, email, X DMs...)
    ALL = ("quick_replies", "buttons", "inline", "link")


class CsatSurvey(IdMixin, Base):
    """One survey sent to a customer about one resolved conversation, and his answer."""

    __tablename__ = "csat_surveys"
    __table_args__ = (
        Index("ix_csat_surveys_workspace_sent", "workspace_id", "sent_at"),
        # at most one survey per customer per period: his latest one
        Index("ix_csat_surveys_customer_sent", "customer_id", "sent_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"),
                                                       index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(32))
    channel_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("channel_accounts.id"))
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=SurveyStatus.SENT)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(RedactedText)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # link method


class CsatSurveyDetails(Base):
    """How a survey went out and came back: the message that carries it, who may answer it
    (the identity it was sent to), until when, and the answer's source and provider id (a
    second answer with the same provider id changes nothing)."""

    __tablename__ = "csat_survey_details"
    __table_args__ = (Index("ix_csat_survey_details_identity", "identity_id", "text_until"),
                      # the KPIs leave survey messages out (kpis/stream.py)
                      Index("ix_csat_survey_details_message", "message_id"))

    survey_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("csat_surveys.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"))
    identity_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("identities.id"))
    question: Mapped[str] = mapped_column(RedactedText, default="")
    expires_at: Mapped[datetime]
    text_until: Mapped[datetime]  # a plain "4" / "5 great" on the channel counts until then
    answer_source: Mapped[str | None] = mapped_column(String(16))
    answer_provider_id: Mapped[str | None] = mapped_column(String(255))
