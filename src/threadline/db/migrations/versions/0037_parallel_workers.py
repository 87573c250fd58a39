"""parallel workers: a claimed inbound event's lease and the keys of what it touches

`inbound_events.claimed_until` and `claim_keys` (hashed keys: messages, identities, private
threads): on PostgreSQL a batch claims the events whose keys no earlier waiting event holds,
so several workers thread one workspace at once, each customer's events in order (decision
0334).

Revision ID: 0037
Revises: 0036
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.db.base

revision: str = "0037"
down_revision: str | tuple[str, ...] | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_events") as batch:
        batch.add_column(sa.Column("claimed_until", threadline.db.base.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column("claim_keys", sa.JSON().with_variant(
            postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True))
    op.create_index("ix_inbound_events_claimed", "inbound_events", ["claimed_until"])


def downgrade() -> None:
    op.drop_index("ix_inbound_events_claimed", table_name="inbound_events")
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("claim_keys")
        batch.drop_column("claimed_until")
