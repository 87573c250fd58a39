"""held public replies and their review (outbound/approval.py)

`reply_approvals`: one row per public reply the workspace's approval policy held (its message
waits in `delivery = "held"` with no outbox job), with why, the text as written and as
approved, the reviewer, a rejection's reason and the send job to enqueue on approval. Agents
get `in_training` and `may_post_public` (a role permission; true for everyone already there).

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0015"
down_revision: str | tuple[str, ...] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = threadline.db.base.UTCDateTime(timezone=True)
TEXT = sa.Text()


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_training", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("may_post_public", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.create_table(
        "reply_approvals",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("author_type", sa.String(length=16), nullable=False),
        sa.Column("author_agent_id", sa.Uuid(), nullable=True),
        sa.Column("author_actor", sa.String(length=80), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("held_for", JSON, nullable=False),
        sa.Column("text", TEXT, nullable=False),
        sa.Column("edited_text", TEXT, nullable=True),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("reason", TEXT, nullable=True),
        sa.Column("send_job", sa.String(length=64), nullable=False),
        sa.Column("job_payload", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_reply_approvals_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE",
                                name=op.f("fk_reply_approvals_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE",
                                name=op.f("fk_reply_approvals_message_id_messages")),
        sa.ForeignKeyConstraint(["author_agent_id"], ["agents.id"],
                                name=op.f("fk_reply_approvals_author_agent_id_agents")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["agents.id"],
                                name=op.f("fk_reply_approvals_reviewer_id_agents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_approvals")),
        sa.UniqueConstraint("message_id", name=op.f("uq_reply_approvals_message_id")),
    )
    with op.batch_alter_table("reply_approvals", schema=None) as batch_op:
        batch_op.create_index("ix_reply_approvals_queue",
                              ["workspace_id", "state", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_reply_approvals_conversation_id"),
                              ["conversation_id"], unique=False)


def downgrade() -> None:
    op.drop_table("reply_approvals")
    # plain DROP COLUMN: batch mode would copy and drop agents, which others point to
    op.drop_column("agents", "may_post_public")
    op.drop_column("agents", "in_training")
