"""selfservice: the bot's sessions and replies

`selfservice_sessions`: one row per conversation the self-service bot looked at, with its
state (bot | handed_over | deflected), the reason, the article and confidence of its latest
answer, the times (what the deflection and handover rates count); `selfservice_replies`: one
row per customer message the bot replied to, unique on that message (a job run twice sends
nothing more) (decision 0330).

Revision ID: 0033
Revises: 0032
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import threadline.db.base

revision: str = "0033"
down_revision: str | tuple[str, ...] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "selfservice_sessions",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("channel_account_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("last_message_id", sa.Uuid(), nullable=True),
        sa.Column("last_answer_id", sa.Uuid(), nullable=True),
        sa.Column("article_id", sa.Uuid(), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_selfservice_sessions_conversation_id_conversations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_selfservice_sessions_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_selfservice_sessions")),
    )
    op.create_index("ix_selfservice_sessions_workspace_started", "selfservice_sessions",
                    ["workspace_id", "started_at"], unique=False)
    op.create_table(
        "selfservice_replies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("inbound_message_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("article_id", sa.Uuid(), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_selfservice_replies_conversation_id_conversations"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_selfservice_replies_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selfservice_replies")),
        sa.UniqueConstraint("inbound_message_id",
                            name=op.f("uq_selfservice_replies_inbound_message_id")),
    )
    op.create_index(op.f("ix_selfservice_replies_workspace_id"), "selfservice_replies",
                    ["workspace_id"], unique=False)
    op.create_index(op.f("ix_selfservice_replies_conversation_id"), "selfservice_replies",
                    ["conversation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_selfservice_replies_conversation_id"),
                  table_name="selfservice_replies")
    op.drop_index(op.f("ix_selfservice_replies_workspace_id"), table_name="selfservice_replies")
    op.drop_table("selfservice_replies")
    op.drop_index("ix_selfservice_sessions_workspace_started",
                  table_name="selfservice_sessions")
    op.drop_table("selfservice_sessions")
