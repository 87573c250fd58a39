"""hops: the account a hop lands on, and its facts (private-reply recipient, follow-up draft)

A Messenger/Instagram private reply opens a private thread whose recipient id is only known
from the provider's answer; the hop keeps it (and the thread joins the conversation by it).
The drafted public follow-up and the message that carried it are kept on the hop too. A short
link keeps small facts of its purpose (the identity a verification link verifies).

Revision ID: 0005
Revises: 0002
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("hops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("to_account_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("meta", JSON, nullable=False, server_default="{}"))
        batch_op.create_index("ix_hops_open_closeout", ["workspace_id", "returned_at"],
                              unique=False)
    with op.batch_alter_table("short_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meta", JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index("ix_callbacks_conversation", ["conversation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_callbacks_conversation")
    with op.batch_alter_table("short_links", schema=None) as batch_op:
        batch_op.drop_column("meta")
    with op.batch_alter_table("hops", schema=None) as batch_op:
        batch_op.drop_index("ix_hops_open_closeout")
        batch_op.drop_column("meta")
        batch_op.drop_column("to_account_id")
