"""priority as P1..P4 and the conversation's relevance (queue order)

`conversations.priority` moves to the scale support teams read: 1 = P1 (most urgent) .. 4 = P4
(the default). Existing rows were 0..4 with higher = more urgent: new = 4 - min(old, 3), so
0 -> P4, 1 -> P3, 2 -> P2, 3 and 4 -> P1; the downgrade maps back with old = 4 - new (a P1
comes back as 3).

`conversations.relevance`: triage's relevance of the conversation's most relevant customer
message (direct | mention | competitor | chatter), filled from the stored triage of the
messages. The agents' queue keeps direct questions; the mentions have their own views.

Indexes: `ix_conversations_queue` (workspace, status, due time, priority, waiting since,
id; relevance and merged_into_id to filter in the index) read in order by the queue's
branches; the count index groups by relevance too (the inbox counts per view in one query).

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | tuple[str, ...] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
LEAST_RELEVANT_FIRST = ("chatter", "competitor", "mention", "direct")

conversations = sa.table("conversations", sa.column("id", sa.Uuid()),
                         sa.column("priority", sa.Integer()),
                         sa.column("relevance", sa.String(16)))
messages = sa.table("messages", sa.column("conversation_id", sa.Uuid()),
                    sa.column("direction", sa.String(16)), sa.column("kind", sa.String(16)),
                    sa.column("triage", JSON))


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relevance", sa.String(length=16), nullable=True))
    priority = conversations.c.priority
    op.execute(conversations.update().values(priority=sa.case(
        (priority >= 3, 1), (priority <= 0, 4), else_=4 - priority)))
    # the most relevant customer message wins: each level overwrites the less relevant ones
    relevance = messages.c.triage["relevance"].as_string()
    for level in LEAST_RELEVANT_FIRST:
        having = sa.select(messages.c.conversation_id).where(
            messages.c.direction == "inbound", messages.c.kind != "note", relevance == level)
        op.execute(conversations.update().where(conversations.c.id.in_(having))
                   .values(relevance=level))
    op.drop_index("ix_conversations_counts", table_name="conversations")
    op.create_index("ix_conversations_counts", "conversations",
                    ["workspace_id", "merged_into_id", "status", "assignee_id", "relevance"])
    op.create_index("ix_conversations_queue", "conversations",
                    ["workspace_id", "status", "sla_due_at", "priority",
                     sa.text("coalesce(last_inbound_at, created_at)"), "id", "relevance",
                     "merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_queue", table_name="conversations")
    op.drop_index("ix_conversations_counts", table_name="conversations")
    op.create_index("ix_conversations_counts", "conversations",
                    ["workspace_id", "merged_into_id", "status", "assignee_id"])
    priority = conversations.c.priority
    op.execute(conversations.update().values(priority=sa.case(
        (priority <= 1, 3), (priority >= 4, 0), else_=4 - priority)))
    # a plain ALTER TABLE .. DROP COLUMN (SQLite >= 3.35): batch mode would copy the table,
    # and SQLite refuses to drop a table other tables' foreign keys point to
    op.drop_column("conversations", "relevance")
