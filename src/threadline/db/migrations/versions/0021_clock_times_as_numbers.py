"""service-level clock times as integer microseconds on SQLite; one index on the due time

`sla_clocks`' times (`*_started_at`, `*_since`, `*_due_at`, `*_warn_at`, `*_warned_at`,
`*_breached_at`, `next_check_at`, `updated_at`) are stored on SQLite as integer microseconds
since the epoch (`db.base.EpochMicros`) instead of text: the recomputation reads and writes
every clock of a workspace, and converting text times cost more than computing them.
PostgreSQL keeps `timestamptz`: nothing changes there.

`ix_conversations_sla` (workspace, due time) goes: the agents' queue index of 0017 starts
with (workspace, status, due time) and serves the lists nearest to breach per status; two
indexes on the due time made every change of it cost twice (decision 0314).

Revision ID: 0021
Revises: 0017
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | tuple[str, ...] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMES = ("response_started_at", "response_since", "response_due_at", "response_warn_at",
         "response_warned_at", "response_breached_at", "resolution_since",
         "resolution_due_at", "resolution_warn_at", "resolution_warned_at",
         "resolution_breached_at", "next_check_at", "updated_at")
NOT_NULL = {"updated_at"}


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def upgrade() -> None:
    op.drop_index("ix_conversations_sla", table_name="conversations")
    if not _sqlite():
        return
    # text "YYYY-MM-DD HH:MM:SS.ffffff" to microseconds, in place (the column's numeric
    # affinity keeps integers), then the declared type follows
    op.execute("UPDATE sla_clocks SET " + ", ".join(
        f"{c} = CAST(strftime('%s', substr({c}, 1, 19)) AS INTEGER) * 1000000 "
        f"+ CAST(substr({c}, 21, 6) AS INTEGER)" for c in TIMES))
    with op.batch_alter_table("sla_clocks", recreate="always") as batch_op:
        for c in TIMES:
            batch_op.alter_column(c, type_=sa.BigInteger(), existing_nullable=c not in NOT_NULL)


def downgrade() -> None:
    if _sqlite():
        with op.batch_alter_table("sla_clocks", recreate="always") as batch_op:
            for c in TIMES:
                batch_op.alter_column(c, type_=sa.DateTime(timezone=True),
                                      existing_nullable=c not in NOT_NULL)
        op.execute("UPDATE sla_clocks SET " + ", ".join(
            f"{c} = strftime('%Y-%m-%d %H:%M:%S', {c} / 1000000, 'unixepoch') || '.' "
            f"|| printf('%06d', {c} % 1000000)" for c in TIMES))
    op.create_index("ix_conversations_sla", "conversations", ["workspace_id", "sla_due_at"])
