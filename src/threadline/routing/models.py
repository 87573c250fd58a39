"""Team members (with their own skills in the team) and routing rules (first match wins)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow


class TeamMember(IdMixin, TimestampMixin, Base):
    """An agent in a team; `skills` are his skills in this team on top of his own (a
    language he answers in for this team only, say)."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "agent_id"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"),
                                                index=True)
    skills: Mapped[list[Any]] = mapped_column(default=list)


class RoutingRule(IdMixin, TimestampMixin, Base):
    """If `conditions` (routing.conditions) hold, the conversation goes to `team_id` and
    needs an agent with `required_skills` ("language": the conversation's language)."""

    __tablename__ = "routing_rules"
    __table_args__ = (Index("ix_routing_rules_workspace_position", "workspace_id",
                            "position"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    conditions: Mapped[list[Any]] = mapped_column(default=list)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    required_skills: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
