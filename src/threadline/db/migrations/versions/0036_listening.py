"""listening: rules, settings and the public posts kept out of the queues

`listening_rules`: keywords, hashtags, the brand's names and competitors' handles and names
per workspace; `listening_settings`: the opportunity view's switch and wait, the defensive
view's threshold, the noise filter's switch, the recent search's pace and cursors;
`listened_posts`: public posts that matched a rule or that the noise filter kept out of the
queues, with their reach, category, sentiment, state and the reason (decision 0333).

Revision ID: 0036
Revises: 0035
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0036"
down_revision: str | tuple[str, ...] | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "listening_rules",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("value", sa.String(length=80), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_listening_rules_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_rules")),
        sa.UniqueConstraint("workspace_id", "kind", "value",
                            name=op.f("uq_listening_rules_workspace_id_kind_value")),
    )
    op.create_index(op.f("ix_listening_rules_workspace_id"), "listening_rules",
                    ["workspace_id"])
    op.create_table(
        "listening_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("opportunities_enabled", sa.Boolean(), nullable=False),
        sa.Column("opportunity_wait_minutes", sa.Integer(), nullable=False),
        sa.Column("defensive_wait_minutes", sa.Integer(), nullable=False),
        sa.Column("noise_filter", sa.Boolean(), nullable=False),
        sa.Column("search_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("search_cursors", JSON, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_listening_settings_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_listening_settings")),
    )
    op.create_table(
        "listened_posts",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("channel_account_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=128), nullable=False),
        sa.Column("in_reply_to", sa.String(length=128), nullable=True),
        sa.Column("author_id", sa.String(length=128), nullable=False),
        sa.Column("author_handle", sa.String(length=120), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_at", WHEN, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("matched", JSON, nullable=False),
        sa.Column("competitor", sa.String(length=80), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("sentiment", sa.String(length=16), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("noise_reason", sa.String(length=16), nullable=True),
        sa.Column("competitor_answered_at", WHEN, nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("item", JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_listened_posts_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["channel_account_id"], ["channel_accounts.id"],
                                ondelete="CASCADE",
                                name=op.f("fk_listened_posts_channel_account_id_channel_accounts")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="SET NULL",
                                name=op.f("fk_listened_posts_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listened_posts")),
        sa.UniqueConstraint(
            "workspace_id", "channel_account_id", "provider_id",
            name=op.f("uq_listened_posts_workspace_id_channel_account_id_provider_id")),
    )
    op.create_index("ix_listened_posts_view", "listened_posts",
                    ["workspace_id", "state", "posted_at"])
    op.create_index("ix_listened_posts_reply", "listened_posts", ["workspace_id", "in_reply_to"])


def downgrade() -> None:
    op.drop_index("ix_listened_posts_reply", table_name="listened_posts")
    op.drop_index("ix_listened_posts_view", table_name="listened_posts")
    op.drop_table("listened_posts")
    op.drop_table("listening_settings")
    op.drop_index(op.f("ix_listening_rules_workspace_id"), table_name="listening_rules")
    op.drop_table("listening_rules")
