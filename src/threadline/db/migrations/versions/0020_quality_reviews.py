"""quality reviews: scorecards, their versions and the reviews (quality/)

`quality_scorecards` (a workspace's scorecards: name, flags, current version) and
`quality_scorecard_versions` (the criteria of each version, never changed once written);
`quality_reviews`, the review queue and the reviews done, one per conversation at most
(columns read by the KPI dashboards: docs/quality.md).

Revision ID: 0020
Revises: 0021
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0020"
down_revision: str | tuple[str, ...] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = threadline.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "quality_scorecards",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_quality_scorecards_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_scorecards")),
        sa.UniqueConstraint("workspace_id", "name",
                            name=op.f("uq_quality_scorecards_workspace_id_name")),
    )
    with op.batch_alter_table("quality_scorecards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_scorecards_workspace_id"),
                              ["workspace_id"], unique=False)
    op.create_table(
        "quality_scorecard_versions",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("scorecard_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("criteria", JSON, nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f(
            "fk_quality_scorecard_versions_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["scorecard_id"], ["quality_scorecards.id"], name=op.f(
            "fk_quality_scorecard_versions_scorecard_id_quality_scorecards")),
        sa.ForeignKeyConstraint(["created_by_id"], ["agents.id"], name=op.f(
            "fk_quality_scorecard_versions_created_by_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_scorecard_versions")),
        sa.UniqueConstraint("scorecard_id", "version",
                            name=op.f("uq_quality_scorecard_versions_scorecard_id_version")),
    )
    with op.batch_alter_table("quality_scorecard_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_scorecard_versions_workspace_id"),
                              ["workspace_id"], unique=False)
    op.create_table(
        "quality_reviews",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("scorecard_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("reviewed_at", WHEN, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_quality_reviews_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_quality_reviews_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_quality_reviews_agent_id_agents")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"],
                                name=op.f("fk_quality_reviews_team_id_teams")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["agents.id"],
                                name=op.f("fk_quality_reviews_reviewer_id_agents")),
        sa.ForeignKeyConstraint(["scorecard_id"], ["quality_scorecards.id"],
                                name=op.f("fk_quality_reviews_scorecard_id_quality_scorecards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_reviews")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_quality_reviews_conversation_id")),
    )
    with op.batch_alter_table("quality_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_quality_reviews_workspace_reviewed",
                              ["workspace_id", "reviewed_at"], unique=False)
        batch_op.create_index("ix_quality_reviews_queue",
                              ["workspace_id", "status", "created_at"], unique=False)
        batch_op.create_index("ix_quality_reviews_agent", ["agent_id", "reviewed_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("quality_reviews")
    op.drop_table("quality_scorecard_versions")
    op.drop_table("quality_scorecards")
