"""Service levels: business-hour calendars (and which team keeps which), policies in order,
one clock row per conversation, and the attainment of each target for the KPIs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, EpochMicros, IdMixin, TimestampMixin, utcnow
from threadline.events.models import SeqId


class SlaCalendar(IdMixin, TimestampMixin, Base):
    """Business hours: an IANA time zone, intervals per weekday (`{"mon": [["09:00",
    "17:00"]]}`) and holiday dates; `is_default` for the workspace (24x7 when none)."""

    __tablename__ = "sla_calendars"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    time_zone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    holidays: Mapped[list[Any]] = mapped_column(default=list)
    is_default: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaCalendarTeam(Base):
    """The calendar a team works by (one per team)."""

    __tablename__ = "sla_calendar_teams"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"),
                                               primary_key=True)
    calendar_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sla_calendars.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)


class SlaPolicy(IdMixin, TimestampMixin, Base):
    """Targets in minutes for conversations matching every non-empty list (priorities,
    channels, visibilities, categories, teams); policies are tried in `position` order and
    the first match wins."""

    __tablename__ = "sla_policies"
    __table_args__ = (Index("ix_sla_policies_workspace_position", "workspace_id", "position"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    priorities: Mapped[list[Any]] = mapped_column(default=list)
    channels: Mapped[list[Any]] = mapped_column(default=list)
    visibilities: Mapped[list[Any]] = mapped_column(default=list)
    categories: Mapped[list[Any]] = mapped_column(default=list)
    team_ids: Mapped[list[Any]] = mapped_column(default=list)
    first_response_minutes: Mapped[int | None]
    next_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    warn_percent: Mapped[int | None]
    warn_minutes: Mapped[int | None]
    escalation: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaClock(Base):
    """The clocks of one conversation (one row, so recomputing a workspace is one read and
    one bulk write). The response clock is the first response, then the next response of
    each customer message that waits for an answer (`response_cycle` counts them); the
    resolution clock runs while the customer waits. `*_used` are business seconds consumed
    until `*_since` (None: paused or not owed); due and warning times follow from the
    policy's targets and the calendar. `*_warned_at` / `*_breached_at` are set once per
    cycle by the scanner (the escalation fires exactly once)."""

    __tablename__ = "sla_clocks"
    __table_args__ = (Index("ix_sla_clocks_next_check", "next_check_at"),)

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"))
    response_kind: Mapped[str | None] = mapped_column(String(8))  # first | next
    response_cycle: Mapped[int] = mapped_column(default=0)
    response_started_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    response_used: Mapped[float] = mapped_column(default=0.0)
    response_since: Mapped[datetime | None] = mapped_column(EpochMicros)
    response_due_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    response_warn_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    response_warned_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    response_breached_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    resolution_used: Mapped[float] = mapped_column(default=0.0)
    resolution_since: Mapped[datetime | None] = mapped_column(EpochMicros)
    resolution_due_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    resolution_warn_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    resolution_warned_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    paused: Mapped[str | None] = mapped_column(String(24))  # snoozed | waiting_on_customer
    next_check_at: Mapped[datetime | None] = mapped_column(EpochMicros)
    updated_at: Mapped[datetime] = mapped_column(EpochMicros, default=utcnow)


class SlaOutcome(Base):
    """Attainment of one target of one conversation (the first response, each next
    response by cycle, the resolution): met or breached, with the times, for the KPIs."""

    __tablename__ = "sla_outcomes"
    __table_args__ = (UniqueConstraint("conversation_id", "target", "cycle"),
                      Index("ix_sla_outcomes_workspace_created", "workspace_id", "created_at"))

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"))
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"))
    target: Mapped[str] = mapped_column(String(16))  # first_response|next_response|resolution
    cycle: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16))  # met | breached
    due_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    business_seconds: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
