"""desktop: agent sessions, login attempts, inbox and supervisor indexes

The agent desktop signs agents in with server-side sessions (a signed cookie carries the id)
and throttles password guessing with login attempts stored in the database, so every web
process sees the same count. The indexes serve the inbox counts, the status-filtered inbox,
SLA lists and the customer page at 100k conversations.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import threadline.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = threadline.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agent_sessions",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("agent_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"],
                                name=op.f("fk_agent_sessions_agent_id_agents")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_agent_sessions_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_sessions")),
    )
    op.create_index(op.f("ix_agent_sessions_agent_id"), "agent_sessions", ["agent_id"])
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_key", "login_attempts", ["key", "created_at"])
    op.create_index("ix_conversations_status_inbox", "conversations",
                    ["workspace_id", "status", "last_message_at", "id"])
    op.create_index("ix_conversations_counts", "conversations",
                    ["workspace_id", "merged_into_id", "status", "assignee_id"])
    op.create_index("ix_conversations_sla", "conversations", ["workspace_id", "sla_due_at"])


def downgrade() -> None:
    op.drop_index("ix_conversations_sla", table_name="conversations")
    op.drop_index("ix_conversations_counts", table_name="conversations")
    op.drop_index("ix_conversations_status_inbox", table_name="conversations")
    op.drop_index("ix_login_attempts_key", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index(op.f("ix_agent_sessions_agent_id"), table_name="agent_sessions")
    op.drop_table("agent_sessions")
