"""stream events get a position in the order they became visible

`stream_events.position` is what the live streams read by and send as the SSE id. On
PostgreSQL, ids are taken when a row is inserted and become visible when its transaction
commits, so a reader reading "id > last seen" skips an event whose transaction committed after
a later id's (decision 0317); positions are given after commit, in a sequence, by the readers
(`events.service.sequence_stream`). On SQLite one writer at a time makes id order the commit
order: a trigger copies the id into the position when a row is inserted. Existing rows take
their id as position, so a client's Last-Event-ID stays valid.

Revision ID: 0023
Revises: 0022
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | tuple[str, ...] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGER = """
CREATE TRIGGER stream_events_position AFTER INSERT ON stream_events
WHEN NEW.position IS NULL
BEGIN
    UPDATE stream_events SET position = NEW.id WHERE id = NEW.id;
END
"""


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("stream_events") as batch_op:
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
    op.execute("UPDATE stream_events SET position = id")
    op.drop_index("ix_stream_events_ws_id", table_name="stream_events")
    op.create_index("ix_stream_events_ws_position", "stream_events",
                    ["workspace_id", "position"])
    if _sqlite():
        op.execute(SQLITE_TRIGGER)
    else:
        op.execute("CREATE SEQUENCE stream_event_positions")
        op.execute("SELECT setval('stream_event_positions', "
                   "(SELECT coalesce(max(id), 0) + 1 FROM stream_events), false)")


def downgrade() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS stream_events_position")
    else:
        op.execute("DROP SEQUENCE IF EXISTS stream_event_positions")
    op.drop_index("ix_stream_events_ws_position", table_name="stream_events")
    op.create_index("ix_stream_events_ws_id", "stream_events", ["workspace_id", "id"])
    with op.batch_alter_table("stream_events") as batch_op:
        batch_op.drop_column("position")
