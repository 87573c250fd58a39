"""agent phone: the number click-to-call rings first

`agents.phone`: the agent's own phone, {"number": E.164} sealed like the other encrypted
columns; the provider calls it first and then bridges the customer (decision 0326).

Revision ID: 0030
Revises: 0029
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | tuple[str, ...] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("phone", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("phone")
