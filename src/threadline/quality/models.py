"""Scorecards (one row per scorecard, one per version of its criteria) and quality reviews.

`quality_reviews` is read by the KPI dashboards: its columns are a contract (docs/quality.md).
A review's `answers` carry the criteria they were given against (label, weight, scale), so a
done review keeps its meaning whatever later versions of the scorecard say."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow
from threadline.db.redacted import RedactedText


class ReviewStatus:
    PENDING = "pending"
    DONE = "done"
    ALL = ("pending", "done")


class Reason:
    """Why a conversation is in the review queue."""

    RANDOM = "random"
    LOW_CSAT = "low_csat"
    REOPENED = "reopened"
    HOPPED = "hopped"
    PUBLIC_COMPLAINT = "public_complaint"
    MANUAL = "manual"
    RULES = ("low_csat", "public_complaint", "reopened", "hopped")  # first match names it
    ALL = ("random", "low_csat", "reopened", "hopped", "public_complaint", "manual")


class QualityScorecard(IdMixin, TimestampMixin, Base):
    """A scorecard as admins see it: name, flags and the number of its current version (the
    criteria live in `quality_scorecard_versions`). Never deleted once it exists (reviews
    point at it): an admin archives it."""

    __tablename__ = "quality_scorecards"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(default=1)
    is_default: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualityScorecardVersion(IdMixin, TimestampMixin, Base):
    """The criteria of one version of a scorecard, never changed once written:
    `[{"key", "label", "description", "weight", "scale"}]` (quality/schemas.py)."""

    __tablename__ = "quality_scorecard_versions"
    __table_args__ = (UniqueConstraint("scorecard_id", "version"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    scorecard_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quality_scorecards.id"))
    version: Mapped[int]
    criteria: Mapped[list[Any]] = mapped_column(default=list)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))


class QualityReview(IdMixin, Base):
    """One conversation in the review queue (`pending`), then reviewed (`done`): the agent
    reviewed, his team and the channel at sampling, the reviewer, why it was picked, the
    answers per criterion and the weighted score (0-100, n.a. left out; null when every
    answer is n.a.). A conversation is reviewed at most once (unique)."""

    __tablename__ = "quality_reviews"
    __table_args__ = (
        UniqueConstraint("conversation_id"),
        Index("ix_quality_reviews_workspace_reviewed", "workspace_id", "reviewed_at"),
        Index("ix_quality_reviews_queue", "workspace_id", "status", "created_at"),
        Index("ix_quality_reviews_agent", "agent_id", "reviewed_at"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    channel: Mapped[str | None] = mapped_column(String(32))
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    scorecard_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("quality_scorecards.id"))
    reason: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.PENDING)
    score: Mapped[float | None]
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    comment: Mapped[str | None] = mapped_column(RedactedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]
