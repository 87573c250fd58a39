"""agents: password lifecycle and second factor

A one-time password (from `agents create` or an admin reset) must be replaced at the first
sign-in and stops working after a while; an agent may add a TOTP second factor (its secret
sealed, the last used time step kept so a code cannot be replayed). A desktop session may be
held at one step of the sign-in (code, new password, enrolment) before it becomes a full
session. Login attempts are pruned by age, hence the index on their time.

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import threadline.db.base

revision: str = "0007"
down_revision: str | tuple[str, ...] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = threadline.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_one_time_until", UTC, nullable=True))
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=16), nullable=True))
    op.create_index("ix_login_attempts_created_at", "login_attempts", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_login_attempts_created_at", table_name="login_attempts")
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.drop_column("stage")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("password_one_time_until")
