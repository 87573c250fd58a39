"""CRM sync: CRM connections, links and the sync log

`crm_connections`: a workspace's Salesforce or HubSpot (credentials encrypted), its field
mapping, the create-contact flag and the backfill's progress. `crm_links`: a customer's CRM
contact and the fields last pulled. `crm_activities`: the CRM record of a conversation (its
provider id, so a retry updates it). `crm_sync_log`: what the sync did, per customer.

Revision ID: 0025
Revises: 0024
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0025"
down_revision: str | tuple[str, ...] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _fk(table: str, column: str, target: str,
        ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "crm_connections",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("session_token", sa.Text(), nullable=False),
        sa.Column("contact_fields", JSON, nullable=False),
        sa.Column("account_fields", JSON, nullable=False),
        sa.Column("create_contacts", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("backfill_total", sa.Integer(), nullable=False),
        sa.Column("backfill_done", sa.Integer(), nullable=False),
        sa.Column("backfill_started_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("crm_connections", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_connections")),
        sa.UniqueConstraint("workspace_id", "kind",
                            name=op.f("uq_crm_connections_workspace_id_kind")),
    )
    op.create_table(
        "crm_links",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("matched_by", sa.String(length=16), nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("fields_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("crm_links", "workspace_id", "workspaces"),
        _fk("crm_links", "connection_id", "crm_connections", "CASCADE"),
        _fk("crm_links", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_links")),
        sa.UniqueConstraint("connection_id", "customer_id",
                            name=op.f("uq_crm_links_connection_id_customer_id")),
    )
    with op.batch_alter_table("crm_links", schema=None) as batch_op:
        batch_op.create_index("ix_crm_links_connection_external",
                              ["connection_id", "external_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crm_links_workspace_id"), ["workspace_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_crm_links_customer_id"), ["customer_id"],
                              unique=False)
    op.create_table(
        "crm_activities",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("contact_external_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column("attempted_at", WHEN, nullable=True),
        sa.Column("lease_until", WHEN, nullable=True),
        sa.Column("synced_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("crm_activities", "workspace_id", "workspaces"),
        _fk("crm_activities", "connection_id", "crm_connections", "CASCADE"),
        _fk("crm_activities", "conversation_id", "conversations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_activities")),
        sa.UniqueConstraint("connection_id", "conversation_id",
                            name=op.f("uq_crm_activities_connection_id_conversation_id")),
    )
    with op.batch_alter_table("crm_activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crm_activities_workspace_id"), ["workspace_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_crm_activities_conversation_id"),
                              ["conversation_id"], unique=False)
    op.create_table(
        "crm_sync_log",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _fk("crm_sync_log", "workspace_id", "workspaces"),
        _fk("crm_sync_log", "connection_id", "crm_connections", "CASCADE"),
        _fk("crm_sync_log", "customer_id", "customers"),
        _fk("crm_sync_log", "conversation_id", "conversations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sync_log")),
    )
    with op.batch_alter_table("crm_sync_log", schema=None) as batch_op:
        batch_op.create_index("ix_crm_sync_log_customer_at", ["customer_id", "created_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_crm_sync_log_workspace_id"), ["workspace_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("crm_sync_log")
    op.drop_table("crm_activities")
    op.drop_table("crm_links")
    op.drop_table("crm_connections")
