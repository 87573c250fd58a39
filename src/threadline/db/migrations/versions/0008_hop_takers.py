"""hops: a public link's taker stays unverified until proven

Whoever submits a public short link's form first is not taken for the public author: he gets
his own customer (his chat identity, the email or number he typed, his consents), and a
`hop_takers` row ties him to the case and to the customer he claims to be, with the hash of a
proof code he can post or send from the public account. Proof (or an agent's confirmation)
merges him into the public author.

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0008"
down_revision: str | tuple[str, ...] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = threadline.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hop_takers",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("short_link_id", sa.Uuid(), nullable=False),
        sa.Column("hop_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("claimed_customer_id", sa.Uuid(), nullable=False),
        sa.Column("claimed_identity_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proof_hash", sa.String(length=64), nullable=True),
        sa.Column("proof_expires_at", WHEN, nullable=True),
        sa.Column("proven_by", sa.String(length=16), nullable=True),
        sa.Column("proven_at", WHEN, nullable=True),
        sa.Column("meta", JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"],
                                name=op.f("fk_hop_takers_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_hop_takers_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["short_link_id"], ["short_links.id"],
                                name=op.f("fk_hop_takers_short_link_id_short_links")),
        sa.ForeignKeyConstraint(["hop_id"], ["hops.id"], name=op.f("fk_hop_takers_hop_id_hops")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_hop_takers_customer_id_customers")),
        sa.ForeignKeyConstraint(["claimed_customer_id"], ["customers.id"],
                                name=op.f("fk_hop_takers_claimed_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hop_takers")),
    )
    with op.batch_alter_table("hop_takers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hop_takers_workspace_id"), ["workspace_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_hop_takers_conversation_id"), ["conversation_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_hop_takers_customer_id"), ["customer_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_hop_takers_claimed_customer_id"),
                              ["claimed_customer_id"], unique=False)
        batch_op.create_index("ix_hop_takers_proof", ["workspace_id", "proof_hash"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hop_takers", schema=None) as batch_op:
        batch_op.drop_index("ix_hop_takers_proof")
        batch_op.drop_index(batch_op.f("ix_hop_takers_claimed_customer_id"))
        batch_op.drop_index(batch_op.f("ix_hop_takers_customer_id"))
        batch_op.drop_index(batch_op.f("ix_hop_takers_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_hop_takers_workspace_id"))
    op.drop_table("hop_takers")
