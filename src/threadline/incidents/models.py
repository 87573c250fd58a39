"""Incidents: a burst of similar public posts grouped under one incident (docs/incidents.md).

`incident_posts` holds every public customer post the detector has seen, in the order it saw
them (`seq`), with the cluster it joined and, once the cluster became an incident, the
incident: the membership is stored, so the detector's state is rebuilt from here after a
restart and other workers catch up by reading rows after the last `seq` they saw. A member's
answer and follow-up are the outbound message ids written in the transaction that created
them: a post is never answered twice. `incident_events` is the incident's timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, utcnow
from threadline.db.redacted import RedactedText
from threadline.events.models import SeqId


class IncidentStatus:
    SUGGESTED = "suggested"  # a burst the detector found; nobody confirmed it yet
    OPEN = "open"  # declared or confirmed by a supervisor: the incident handles its posts
    CLOSED = "closed"  # over: the follow-up went to every member
    DISMISSED = "dismissed"  # not an incident: its posts stay ordinary conversations
    ALL = ("suggested", "open", "closed", "dismissed")
    LIVE = ("suggested", "open")


class AnswerState:
    NONE = "none"
    PENDING = "pending"  # written, waiting for a supervisor's approval
    APPROVED = "approved"


class PostState:
    SEEN = "seen"  # not (yet) in an incident
    MEMBER = "member"  # in an incident, not answered yet
    QUEUED = "queued"  # its answer is in the outbox
    REFUSED = "refused"  # the guard or the channel refused the answer for this post


class Incident(IdMixin, Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_board", "workspace_id", "status", "last_post_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    status: Mapped[str] = mapped_column(String(16), default=IncidentStatus.SUGGESTED)
    origin: Mapped[str] = mapped_column(String(16), default="detected")  # detected | declared
    title: Mapped[str] = mapped_column(String(200))
    # words shared by at least three posts of the burst (never one customer's words alone)
    terms: Mapped[list[Any]] = mapped_column(default=list)
    member_count: Mapped[int] = mapped_column(default=0)
    first_post_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    declared_at: Mapped[datetime | None]
    declared_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    answer_state: Mapped[str] = mapped_column(String(16), default=AnswerState.NONE)
    draft_text: Mapped[str | None] = mapped_column(RedactedText)
    draft_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    answer_text: Mapped[str | None] = mapped_column(RedactedText)
    answer_version: Mapped[int] = mapped_column(default=0)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    approved_at: Mapped[datetime | None]
    followup_text: Mapped[str | None] = mapped_column(RedactedText)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    # the next free send slot per channel account (ISO times): the fan-out's pacing
    pace: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IncidentPost(Base):
    __tablename__ = "incident_posts"
    __table_args__ = (Index("ix_incident_posts_feed", "workspace_id", "seq"),
                      Index("ix_incident_posts_window", "workspace_id", "posted_at"),
                      Index("ix_incident_posts_incident", "incident_id", "state"))

    seq: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    channel_account_id: Mapped[uuid.UUID | None]
    channel: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[uuid.UUID | None]
    posted_at: Mapped[datetime]
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    cluster_id: Mapped[uuid.UUID]
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default=PostState.SEEN)
    held: Mapped[bool] = mapped_column(default=False)  # its conversation waits on the incident
    answer_message_id: Mapped[uuid.UUID | None]
    answer_version: Mapped[int | None]
    followup_message_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(String(64))


class IncidentEvent(Base):
    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id",
                                                              ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


__all__ = ["AnswerState", "Incident", "IncidentEvent", "IncidentPost", "IncidentStatus",
           "PostState"]
