"""teams, skills, presence, capacity and routing rules (routing/)

`team_members`: agents in teams, with skills of their own in the team. Teams get their skills
and whether their agents must speak the conversation's language; agents their capacity per
kind of work (real-time 3, delayed 10), when their desktop was last seen and when the router
last gave them work. `routing_rules`: ordered, first match wins, conditions -> a team and the
skills needed. Conversations get their kind of work, the skills they need, who assigned them
and why, and when they entered their team's queue; two indexes serve the load counts (one
grouped count per kind) and the team queues.

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0013"
down_revision: str | tuple[str, ...] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = threadline.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skills", JSON, nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("language_required", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity_realtime", sa.Integer(), nullable=False,
                                      server_default="3"))
        batch_op.add_column(sa.Column("capacity_delayed", sa.Integer(), nullable=False,
                                      server_default="10"))
        batch_op.add_column(sa.Column("last_seen_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("last_assigned_at", WHEN, nullable=True))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("required_skills", JSON, nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("routed_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("routed_reason", sa.String(length=400), nullable=True))
        batch_op.add_column(sa.Column("routed_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("queued_at", WHEN, nullable=True))
        batch_op.create_index("ix_conversations_load", ["assignee_id", "work_kind", "status"],
                              unique=False)
        batch_op.create_index("ix_conversations_team_queue",
                              ["team_id", "assignee_id", "status", "queued_at"], unique=False)
    op.create_table(
        "team_members",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_team_members_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE",
                                name=op.f("fk_team_members_team_id_teams")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE",
                                name=op.f("fk_team_members_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
        sa.UniqueConstraint("team_id", "agent_id",
                            name=op.f("uq_team_members_team_id_agent_id")),
    )
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_members_workspace_id"), ["workspace_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_team_members_agent_id"), ["agent_id"],
                              unique=False)
    op.create_table(
        "routing_rules",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("conditions", JSON, nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("required_skills", JSON, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_routing_rules_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE",
                                name=op.f("fk_routing_rules_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    with op.batch_alter_table("routing_rules", schema=None) as batch_op:
        batch_op.create_index("ix_routing_rules_workspace_position",
                              ["workspace_id", "position"], unique=False)


def downgrade() -> None:
    op.drop_table("routing_rules")
    op.drop_table("team_members")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): batch mode would copy and drop the
    # conversations table, which SQLite refuses while messages and others point to it.
    op.drop_index("ix_conversations_team_queue", table_name="conversations")
    op.drop_index("ix_conversations_load", table_name="conversations")
    for name in ("queued_at", "routed_at", "routed_reason", "routed_by", "required_skills",
                 "work_kind"):
        op.drop_column("conversations", name)
    for name in ("last_assigned_at", "last_seen_at", "capacity_delayed", "capacity_realtime"):
        op.drop_column("agents", name)
    op.drop_column("teams", "language_required")
    op.drop_column("teams", "skills")
