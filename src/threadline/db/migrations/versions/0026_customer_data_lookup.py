"""customer data lookup: the customer data connector's settings and cache

`lookup_endpoints`: one per workspace, the URL of the brand's own endpoint, its limits and
its signing secret (a Fernet token, decision 0104). `lookup_cache`: the latest answer per
customer until it expires, shared by every web process (decision 0320).

Revision ID: 0026
Revises: 0025
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import threadline.db.base

revision: str = "0026"
down_revision: str | tuple[str, ...] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = threadline.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lookup_endpoints",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("timeout_seconds", sa.SmallInteger(), nullable=False),
        sa.Column("cache_seconds", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("secret_set_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_lookup_endpoints_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_endpoints")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_lookup_endpoints_workspace_id")),
    )
    op.create_table(
        "lookup_cache",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("lookup_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("checked_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("data_at", WHEN, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_lookup_cache_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_lookup_cache_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_cache")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_lookup_cache_customer_id")),
    )
    with op.batch_alter_table("lookup_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lookup_cache_workspace_id"), ["workspace_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lookup_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lookup_cache_workspace_id"))
    op.drop_table("lookup_cache")
    op.drop_table("lookup_endpoints")
