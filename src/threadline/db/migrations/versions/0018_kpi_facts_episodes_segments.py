"""KPIs: conversation facts, episodes, channel segments and agent activity (kpis/)

`conversation_facts`, one row per conversation (the dashboards' base table; its last six
columns are the incremental update's bookkeeping); `conversation_episodes` (bursts of
activity) and `conversation_segments` (runs on one channel and visibility), numbered per
conversation; `agent_activity`, the intervals of active handle time (focus, typing, calls).

Revision ID: 0018
Revises: 0019
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import threadline.db.base

revision: str = "0018"
down_revision: str | tuple[str, ...] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)


def _conversation_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_conversation_id_conversations"))


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                   name=op.f(f"fk_{table}_workspace_id_workspaces"))


def upgrade() -> None:
    op.create_table(
        "conversation_facts",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("resolved_by_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("relevance", sa.String(length=16), nullable=True),
        sa.Column("origin_channel", sa.String(length=32), nullable=True),
        sa.Column("origin_visibility", sa.String(length=16), nullable=True),
        sa.Column("origin_account_id", sa.Uuid(), nullable=True),
        sa.Column("origin_source", sa.String(length=40), nullable=True),
        sa.Column("last_channel", sa.String(length=32), nullable=True),
        sa.Column("last_visibility", sa.String(length=16), nullable=True),
        sa.Column("resolved_channel", sa.String(length=32), nullable=True),
        sa.Column("resolved_visibility", sa.String(length=16), nullable=True),
        sa.Column("journey", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("first_response_at", WHEN, nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("first_response_s", sa.Double(), nullable=True),
        sa.Column("first_response_business_s", sa.Double(), nullable=True),
        sa.Column("next_responses", sa.Integer(), nullable=False),
        sa.Column("next_response_total_s", sa.Double(), nullable=False),
        sa.Column("next_response_max_s", sa.Double(), nullable=True),
        sa.Column("resolution_s", sa.Double(), nullable=True),
        sa.Column("resolution_business_s", sa.Double(), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("customer_messages", sa.Integer(), nullable=False),
        sa.Column("agent_messages", sa.Integer(), nullable=False),
        sa.Column("episodes", sa.Integer(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("handle_s", sa.Double(), nullable=False),
        sa.Column("public_to_private", sa.Boolean(), nullable=False),
        sa.Column("hop_offered_s", sa.Double(), nullable=True),
        sa.Column("hop_taken", sa.Boolean(), nullable=True),
        sa.Column("returned_to_origin", sa.Boolean(), nullable=True),
        sa.Column("return_delay_s", sa.Double(), nullable=True),
        sa.Column("fcr", sa.Boolean(), nullable=True),
        sa.Column("sla_first_response_met", sa.Boolean(), nullable=True),
        sa.Column("sla_resolution_met", sa.Boolean(), nullable=True),
        sa.Column("sentiment_start", sa.String(length=16), nullable=True),
        sa.Column("sentiment_end", sa.String(length=16), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("waiting_since", WHEN, nullable=True),
        sa.Column("open_since", WHEN, nullable=True),
        sa.Column("first_resolved_at", WHEN, nullable=True),
        sa.Column("cursor_at", WHEN, nullable=True),
        sa.Column("cursor_key", sa.String(length=48), nullable=True),
        sa.Column("status_cursor", sa.BigInteger(), nullable=False),
        _conversation_fk("conversation_facts"),
        _workspace_fk("conversation_facts"),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_facts")),
    )
    with op.batch_alter_table("conversation_facts", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_facts_opened", ["workspace_id", "opened_at"],
                              unique=False)
        batch_op.create_index("ix_conversation_facts_resolved", ["workspace_id", "resolved_at"],
                              unique=False)
        batch_op.create_index("ix_conversation_facts_customer",
                              ["customer_id", "first_resolved_at"], unique=False)
    op.create_table(
        "conversation_episodes",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("last_activity_at", WHEN, nullable=False),
        sa.Column("customer_messages", sa.Integer(), nullable=False),
        sa.Column("agent_messages", sa.Integer(), nullable=False),
        sa.Column("first_response_s", sa.Double(), nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _conversation_fk("conversation_episodes"),
        _workspace_fk("conversation_episodes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_episodes")),
        sa.UniqueConstraint("conversation_id", "number",
                            name=op.f("uq_conversation_episodes_conversation_id_number")),
    )
    with op.batch_alter_table("conversation_episodes", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_episodes_started", ["workspace_id", "started_at"],
                              unique=False)
    op.create_table(
        "conversation_segments",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("channel_account_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _conversation_fk("conversation_segments"),
        _workspace_fk("conversation_segments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_segments")),
        sa.UniqueConstraint("conversation_id", "number",
                            name=op.f("uq_conversation_segments_conversation_id_number")),
    )
    with op.batch_alter_table("conversation_segments", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_segments_started", ["workspace_id", "started_at"],
                              unique=False)
    op.create_table(
        "agent_activity",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _conversation_fk("agent_activity"),
        _workspace_fk("agent_activity"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="SET NULL",
                                name=op.f("fk_agent_activity_agent_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_activity")),
        sa.UniqueConstraint("message_id", name=op.f("uq_agent_activity_message_id")),
    )
    with op.batch_alter_table("agent_activity", schema=None) as batch_op:
        batch_op.create_index("ix_agent_activity_workspace_started",
                              ["workspace_id", "started_at"], unique=False)
        batch_op.create_index("ix_agent_activity_agent_ended", ["agent_id", "ended_at"],
                              unique=False)
        batch_op.create_index("ix_agent_activity_conversation", ["conversation_id", "kind"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("agent_activity")
    op.drop_table("conversation_segments")
    op.drop_table("conversation_episodes")
    op.drop_table("conversation_facts")
