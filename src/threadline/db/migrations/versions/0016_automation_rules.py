"""automation rules and what they fired (automation/)

`automation_rules`: when (a trigger), if (conditions), then (ordered actions), per workspace in
an order. `automation_runs`: one row per rule fired on one event of a conversation job, unique
on (rule, job, event index) so a job run again never fires a rule twice.

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0016"
down_revision: str | tuple[str, ...] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = threadline.db.base.UTCDateTime(timezone=True)
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "automation_rules",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("conditions", JSON, nullable=False),
        sa.Column("actions", JSON, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_automation_rules_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_rules")),
    )
    with op.batch_alter_table("automation_rules", schema=None) as batch_op:
        batch_op.create_index("ix_automation_rules_workspace_position",
                              ["workspace_id", "position"], unique=False)
    op.create_table(
        "automation_runs",
        sa.Column("id", SEQ, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("event_index", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", JSON, nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_automation_runs_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["rule_id"], ["automation_rules.id"], ondelete="CASCADE",
                                name=op.f("fk_automation_runs_rule_id_automation_rules")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_automation_runs_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_runs")),
        sa.UniqueConstraint("rule_id", "job_id", "event_index",
                            name=op.f("uq_automation_runs_rule_id_job_id_event_index")),
    )
    with op.batch_alter_table("automation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_automation_runs_workspace_id"), ["workspace_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_automation_runs_conversation_id"),
                              ["conversation_id"], unique=False)
        batch_op.create_index("ix_automation_runs_rule_created", ["rule_id", "created_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("automation_runs")
    op.drop_table("automation_rules")
