"""Automation rules (when, if, then) and their firings, one row per rule and event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow
from threadline.events.models import SeqId


class AutomationRule(IdMixin, TimestampMixin, Base):
    """`trigger` is one of schemas.TRIGGERS; `conditions` a list of routing conditions;
    `actions` an ordered list of typed actions (schemas.Action), validated when saved."""

    __tablename__ = "automation_rules"
    __table_args__ = (Index("ix_automation_rules_workspace_position", "workspace_id",
                            "position"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    trigger: Mapped[str] = mapped_column(String(40))
    conditions: Mapped[list[Any]] = mapped_column(default=list)
    actions: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutomationRun(Base):
    """A rule fired on one event of one conversation job (`job_id`, `event_index`): unique,
    so a job run again after a crash never fires a rule twice for the same event."""

    __tablename__ = "automation_runs"
    __table_args__ = (UniqueConstraint("rule_id", "job_id", "event_index"),
                      Index("ix_automation_runs_rule_created", "rule_id", "created_at"))

    id: Mapped[int] = mapped_column(SeqId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    rule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("automation_rules.id", ondelete="CASCADE"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    event_index: Mapped[int] = mapped_column(default=0)
    event: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # fired | failed
    result: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
