"""business hours, service-level policies and conversation clocks (sla/)

`sla_calendars` (time zone, weekly hours, holidays; one may be the workspace's default) and
`sla_calendar_teams` (the calendar a team works by); `sla_policies` in order, first match
wins; `sla_clocks`, one row per conversation; `sla_outcomes`, met or breached per target.

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0014"
down_revision: str | tuple[str, ...] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = threadline.db.base.UTCDateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sla_calendars",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("hours", JSON, nullable=False),
        sa.Column("holidays", JSON, nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_sla_calendars_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_calendars")),
        sa.UniqueConstraint("workspace_id", "name",
                            name=op.f("uq_sla_calendars_workspace_id_name")),
    )
    with op.batch_alter_table("sla_calendars", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_calendars_workspace_id"), ["workspace_id"],
                              unique=False)
    op.create_table(
        "sla_calendar_teams",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("calendar_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE",
                                name=op.f("fk_sla_calendar_teams_team_id_teams")),
        sa.ForeignKeyConstraint(["calendar_id"], ["sla_calendars.id"], ondelete="CASCADE",
                                name=op.f("fk_sla_calendar_teams_calendar_id_sla_calendars")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_sla_calendar_teams_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_sla_calendar_teams")),
    )
    with op.batch_alter_table("sla_calendar_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_calendar_teams_calendar_id"), ["calendar_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_sla_calendar_teams_workspace_id"),
                              ["workspace_id"], unique=False)
    op.create_table(
        "sla_policies",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("priorities", JSON, nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("visibilities", JSON, nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("team_ids", JSON, nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("warn_percent", sa.Integer(), nullable=True),
        sa.Column("warn_minutes", sa.Integer(), nullable=True),
        sa.Column("escalation", JSON, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_sla_policies_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
    )
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.create_index("ix_sla_policies_workspace_position",
                              ["workspace_id", "position"], unique=False)
    op.create_table(
        "sla_clocks",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("response_kind", sa.String(length=8), nullable=True),
        sa.Column("response_cycle", sa.Integer(), nullable=False),
        sa.Column("response_started_at", WHEN, nullable=True),
        sa.Column("response_used", sa.Double(), nullable=False),
        sa.Column("response_since", WHEN, nullable=True),
        sa.Column("response_due_at", WHEN, nullable=True),
        sa.Column("response_warn_at", WHEN, nullable=True),
        sa.Column("response_warned_at", WHEN, nullable=True),
        sa.Column("response_breached_at", WHEN, nullable=True),
        sa.Column("resolution_used", sa.Double(), nullable=False),
        sa.Column("resolution_since", WHEN, nullable=True),
        sa.Column("resolution_due_at", WHEN, nullable=True),
        sa.Column("resolution_warn_at", WHEN, nullable=True),
        sa.Column("resolution_warned_at", WHEN, nullable=True),
        sa.Column("resolution_breached_at", WHEN, nullable=True),
        sa.Column("paused", sa.String(length=24), nullable=True),
        sa.Column("next_check_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_sla_clocks_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_sla_clocks_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["policy_id"], ["sla_policies.id"], ondelete="SET NULL",
                                name=op.f("fk_sla_clocks_policy_id_sla_policies")),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_sla_clocks")),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_clocks_workspace_id"), ["workspace_id"],
                              unique=False)
        batch_op.create_index("ix_sla_clocks_next_check", ["next_check_at"], unique=False)
    op.create_table(
        "sla_outcomes",
        sa.Column("id", SEQ, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("breached_at", WHEN, nullable=True),
        sa.Column("done_at", WHEN, nullable=True),
        sa.Column("business_seconds", sa.Double(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_sla_outcomes_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_sla_outcomes_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["policy_id"], ["sla_policies.id"], ondelete="SET NULL",
                                name=op.f("fk_sla_outcomes_policy_id_sla_policies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_outcomes")),
        sa.UniqueConstraint("conversation_id", "target", "cycle",
                            name=op.f("uq_sla_outcomes_conversation_id_target_cycle")),
    )
    with op.batch_alter_table("sla_outcomes", schema=None) as batch_op:
        batch_op.create_index("ix_sla_outcomes_workspace_created",
                              ["workspace_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("sla_outcomes")
    op.drop_table("sla_clocks")
    op.drop_table("sla_policies")
    op.drop_table("sla_calendar_teams")
    op.drop_table("sla_calendars")
