"""media: files that come in and go out with messages

`attachments`: one file of a workspace (sniffed type, size, original name, SHA-256, blob
key, thumbnail key), unique per (account, provider media id) so an inbound download that
runs twice stores one row (decision 0323).

Revision ID: 0028
Revises: 0027
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0028"
down_revision: str | tuple[str, ...] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("channel_account_id", sa.Uuid(), nullable=True),
        sa.Column("provider_media_id", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("declared_type", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=100), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=100), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("flags", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_attachments_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_attachments_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["channel_account_id"], ["channel_accounts.id"],
                                name=op.f("fk_attachments_channel_account_id_channel_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("workspace_id", "channel_account_id", "provider_media_id",
                            name=op.f("uq_attachments_provider_media")),
    )
    op.create_index(op.f("ix_attachments_workspace_id"), "attachments", ["workspace_id"])
    op.create_index(op.f("ix_attachments_conversation_id"), "attachments", ["conversation_id"])
    op.create_index(op.f("ix_attachments_message_id"), "attachments", ["message_id"])


def downgrade() -> None:
    op.drop_table("attachments")
