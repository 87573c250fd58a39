"""CSAT surveys on the channel (csat/)

`csat_surveys`: one survey per customer and resolved conversation (the columns the KPI
dashboards read, docs/csat.md#the-tables). `csat_survey_details`: the survey's message, the
identity that may answer, until when, and the answer's source and provider id.

Revision ID: 0019
Revises: 0020
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import threadline.db.base

revision: str = "0019"
down_revision: str | tuple[str, ...] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)
TEXT = sa.Text()


def upgrade() -> None:
    op.create_table(
        "csat_surveys",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("channel_account_id", sa.Uuid(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", WHEN, nullable=False),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", TEXT, nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_csat_surveys_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_csat_surveys_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_csat_surveys_customer_id_customers")),
        sa.ForeignKeyConstraint(["channel_account_id"], ["channel_accounts.id"],
                                name=op.f("fk_csat_surveys_channel_account_id_channel_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_surveys")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_csat_surveys_token_hash")),
    )
    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.create_index("ix_csat_surveys_workspace_sent", ["workspace_id", "sent_at"],
                              unique=False)
        batch_op.create_index("ix_csat_surveys_customer_sent", ["customer_id", "sent_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_csat_surveys_conversation_id"),
                              ["conversation_id"], unique=False)
    op.create_table(
        "csat_survey_details",
        sa.Column("survey_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("identity_id", sa.Uuid(), nullable=True),
        sa.Column("question", TEXT, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("text_until", WHEN, nullable=False),
        sa.Column("answer_source", sa.String(length=16), nullable=True),
        sa.Column("answer_provider_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["survey_id"], ["csat_surveys.id"], ondelete="CASCADE",
                                name=op.f("fk_csat_survey_details_survey_id_csat_surveys")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_csat_survey_details_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_csat_survey_details_message_id_messages")),
        sa.ForeignKeyConstraint(["identity_id"], ["identities.id"],
                                name=op.f("fk_csat_survey_details_identity_id_identities")),
        sa.PrimaryKeyConstraint("survey_id", name=op.f("pk_csat_survey_details")),
    )
    with op.batch_alter_table("csat_survey_details", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_csat_survey_details_workspace_id"),
                              ["workspace_id"], unique=False)
        batch_op.create_index("ix_csat_survey_details_identity", ["identity_id", "text_until"],
                              unique=False)
        batch_op.create_index("ix_csat_survey_details_message", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_table("csat_survey_details")
    op.drop_table("csat_surveys")
