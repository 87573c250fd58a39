"""secure forms: details an agent asks the customer for, given on a signed single-use form

`detail_requests`: the fields asked (delivery address, order number, date of birth, email,
phone), the agent's note, and the values the customer gave, encrypted at rest as one Fernet
token (decision 0104); the guard refuses them in public replies (decision 0322).

Revision ID: 0027
Revises: 0026
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0027"
down_revision: str | tuple[str, ...] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "detail_requests",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("short_link_id", sa.Uuid(), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("values", sa.Text(), nullable=True),
        sa.Column("submitted_at", WHEN, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_detail_requests_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_detail_requests_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["short_link_id"], ["short_links.id"],
                                name=op.f("fk_detail_requests_short_link_id_short_links")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detail_requests")),
    )
    op.create_index(op.f("ix_detail_requests_workspace_id"), "detail_requests",
                    ["workspace_id"])
    op.create_index(op.f("ix_detail_requests_conversation_id"), "detail_requests",
                    ["conversation_id"])


def downgrade() -> None:
    op.drop_table("detail_requests")
