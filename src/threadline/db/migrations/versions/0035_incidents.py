"""incidents: bursts of similar public posts answered as one

`incidents`: a burst the detector suggested or a supervisor declared, its reviewed answer,
its follow-up and the fan-out's pacing. `incident_posts`: every public customer post the
detector saw, in order (`seq`), with its cluster and incident (the stored membership the
detector is rebuilt from) and the ids of the answer and follow-up sent to it.
`incident_events`: the incident's timeline (decision 0332).

Revision ID: 0035
Revises: 0033
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0035"
down_revision: str | tuple[str, ...] | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("terms", JSON, nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("first_post_at", WHEN, nullable=False),
        sa.Column("last_post_at", WHEN, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("declared_at", WHEN, nullable=True),
        sa.Column("declared_by", sa.Uuid(), nullable=True),
        sa.Column("answer_state", sa.String(length=16), nullable=False),
        sa.Column("draft_text", sa.Text(), nullable=True),
        sa.Column("draft_by", sa.Uuid(), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answer_version", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("approved_at", WHEN, nullable=True),
        sa.Column("followup_text", sa.Text(), nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("pace", JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_incidents_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["declared_by"], ["agents.id"],
                                name=op.f("fk_incidents_declared_by_agents")),
        sa.ForeignKeyConstraint(["draft_by"], ["agents.id"],
                                name=op.f("fk_incidents_draft_by_agents")),
        sa.ForeignKeyConstraint(["approved_by"], ["agents.id"],
                                name=op.f("fk_incidents_approved_by_agents")),
        sa.ForeignKeyConstraint(["closed_by"], ["agents.id"],
                                name=op.f("fk_incidents_closed_by_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_board", "incidents",
                    ["workspace_id", "status", "last_post_at"])
    op.create_table(
        "incident_posts",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("channel_account_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("posted_at", WHEN, nullable=False),
        sa.Column("seen_at", WHEN, nullable=False),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("joined_at", WHEN, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("answer_message_id", sa.Uuid(), nullable=True),
        sa.Column("answer_version", sa.Integer(), nullable=True),
        sa.Column("followup_message_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_incident_posts_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE",
                                name=op.f("fk_incident_posts_message_id_messages")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_incident_posts_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="SET NULL",
                                name=op.f("fk_incident_posts_incident_id_incidents")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_incident_posts")),
        sa.UniqueConstraint("message_id", name=op.f("uq_incident_posts_message_id")),
    )
    op.create_index("ix_incident_posts_feed", "incident_posts", ["workspace_id", "seq"])
    op.create_index("ix_incident_posts_window", "incident_posts", ["workspace_id", "posted_at"])
    op.create_index("ix_incident_posts_incident", "incident_posts", ["incident_id", "state"])
    op.create_index(op.f("ix_incident_posts_conversation_id"), "incident_posts",
                    ["conversation_id"])
    op.create_table(
        "incident_events",
        sa.Column("id", SEQ, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_incident_events_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE",
                                name=op.f("fk_incident_events_incident_id_incidents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    op.create_index("ix_incident_events_incident", "incident_events", ["incident_id", "id"])


def downgrade() -> None:
    op.drop_table("incident_events")
    op.drop_table("incident_posts")
    op.drop_table("incidents")
