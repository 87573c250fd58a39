"""request ids on jobs: the web request that stored an inbound event or enqueued a job

A job or event caused by a request keeps the request's id (`X-Request-ID`), so that the
worker's log lines for it carry the same id as the request's (docs/logging.md). Nullable:
work enqueued by the worker itself, the command line or before this change has none.

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | tuple[str, ...] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inbound_events", "outbox")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("request_id")
