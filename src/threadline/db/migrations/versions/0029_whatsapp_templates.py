"""whatsapp templates: the message templates of each WhatsApp account, as synced

`whatsapp_templates`: one template in one language of a WhatsApp account (name, language,
status, category, components), unique per (account, name, language) (decision 0324).

Revision ID: 0029
Revises: 0028
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0029"
down_revision: str | tuple[str, ...] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "whatsapp_templates",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("channel_account_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("components", JSON, nullable=False),
        sa.Column("synced_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_whatsapp_templates_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(
            ["channel_account_id"], ["channel_accounts.id"],
            name=op.f("fk_whatsapp_templates_channel_account_id_channel_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_templates")),
        sa.UniqueConstraint("channel_account_id", "name", "language",
                            name="uq_whatsapp_templates_account_name_language"),
    )
    op.create_index(op.f("ix_whatsapp_templates_workspace_id"), "whatsapp_templates",
                    ["workspace_id"])
    op.create_index(op.f("ix_whatsapp_templates_channel_account_id"), "whatsapp_templates",
                    ["channel_account_id"])


def downgrade() -> None:
    op.drop_table("whatsapp_templates")
