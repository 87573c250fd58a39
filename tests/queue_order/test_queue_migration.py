"""Migration 0017 on a database of its own (SQLite, or PostgreSQL when
THREADLINE_TEST_DATABASE_URL is set): existing priorities move to P1..P4 (new = 4 - min(old,
3)) and back, the relevance is filled from the stored triage, the indexes come and go."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import sqlalchemy as sa
from alembic import command

from tests.core.test_durability import own_database
from threadline.db.base import utcnow
from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade

# old priority -> (new priority, the old one the downgrade gives back)
SCALE = {0: (4, 0), 1: (3, 1), 2: (2, 2), 3: (1, 3), 4: (1, 3)}
# the relevances of a conversation's messages -> the conversation's
MESSAGES = {
    "direct-wins": ([("inbound", "chatter"), ("inbound", "direct"), ("inbound", "mention")],
                    "direct"),
    "mention": ([("inbound", "mention"), ("inbound", "chatter")], "mention"),
    "competitor": ([("inbound", "competitor")], "competitor"),
    "chatter": ([("inbound", "chatter"), ("inbound", None)], "chatter"),
    # our own messages and notes carry no customer relevance
    "ours-only": ([("outbound", "direct"), ("note", "direct")], None),
    "untriaged": ([("inbound", None)], None),
}


def _insert(table_name: str, /, **values: Any) -> Any:
    def kind(v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return sa.Uuid()
        if isinstance(v, dict | list):
            return sa.JSON()
        if hasattr(v, "tzinfo"):
            return sa.DateTime(timezone=True)
        return None
    return sa.table(table_name, *(sa.column(k, kind(v)) for k, v in values.items())
                    ).insert().values(**values)


def _downgrade(db: Database, revision: str) -> None:
    with db.engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _indexes(db: Database) -> dict[str, list[str]]:
    with warnings.catch_warnings():  # the queue index, on an expression, is not reflected
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        return {i["name"]: i["column_names"]
                for i in sa.inspect(db.engine).get_indexes("conversations")}


def _index_sql(db: Database, name: str) -> str | None:
    """An index's definition (the inspector leaves out indexes on expressions)."""
    query = ("SELECT sql FROM sqlite_master WHERE name = :name" if db.dialect == "sqlite"
             else "SELECT indexdef FROM pg_indexes WHERE indexname = :name")
    with db.engine.connect() as conn:
        found = conn.execute(sa.text(query), {"name": name}).scalar()
    return None if found is None else " ".join(str(found).split()).lower()


def test_priorities_convert_up_and_down_and_relevance_is_backfilled(tmp_path) -> None:
    db = Database(own_database(tmp_path))
    ws = uuid.uuid4()
    now = utcnow()
    by_priority: dict[int, uuid.UUID] = {}
    by_case: dict[str, uuid.UUID] = {}
    try:
        upgrade(db, "0016")
        with db.engine.begin() as conn:
            conn.execute(_insert("workspaces", id=ws, name="m", slug="m", settings={},
                                 created_at=now))

            def conv(priority: int) -> uuid.UUID:
                ident = uuid.uuid4()
                conn.execute(_insert("conversations", id=ident, workspace_id=ws,
                                     status="open", priority=priority, labels=[],
                                     reopen_count=0, message_count=1, last_message_at=now,
                                     created_at=now, updated_at=now))
                return ident

            for old in SCALE:
                by_priority[old] = conv(old)
            for case, (messages, _) in MESSAGES.items():
                by_case[case] = conv(0)
                for direction, relevance in messages:
                    conn.execute(_insert(
                        "messages", id=uuid.uuid4(), workspace_id=ws,
                        conversation_id=by_case[case], channel="x",
                        direction="inbound" if direction == "note" else direction,
                        visibility="public", kind="note" if direction == "note" else "message",
                        text="t", attachments=[], created_at=now, delivery="received",
                        author_type="customer", meta={},
                        triage={"relevance": relevance} if relevance else {}))
        upgrade(db, "0017")
        conversations = sa.table("conversations", sa.column("id", sa.Uuid()),
                                 sa.column("priority"), sa.column("relevance"))
        with db.engine.connect() as conn:
            rows = {r.id: (r.priority, r.relevance)
                    for r in conn.execute(sa.select(conversations))}
        assert {old: rows[ident][0] for old, ident in by_priority.items()} == {
            old: new for old, (new, _) in SCALE.items()}
        assert {case: rows[ident][1] for case, ident in by_case.items()} == {
            case: relevance for case, (_, relevance) in MESSAGES.items()}
        queue_index = _index_sql(db, "ix_conversations_queue")
        assert queue_index is not None
        assert "workspace_id, status, sla_due_at, priority, coalesce(" in queue_index
        assert _indexes(db)["ix_conversations_counts"][-1] == "relevance"

        _downgrade(db, "0016")
        priorities = sa.table("conversations", sa.column("id", sa.Uuid()),
                              sa.column("priority"))
        with db.engine.connect() as conn:
            back = {r.id: r.priority for r in conn.execute(sa.select(priorities))}
        assert {old: back[ident] for old, ident in by_priority.items()} == {
            old: again for old, (_, again) in SCALE.items()}
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("conversations")}
        assert "relevance" not in columns
        assert _index_sql(db, "ix_conversations_queue") is None
        assert _indexes(db)["ix_conversations_counts"] == ["workspace_id", "merged_into_id",
                                                      "status", "assignee_id"]
        upgrade(db)  # and up again to the head
        assert "relevance" in {c["name"] for c in
                               sa.inspect(db.engine).get_columns("conversations")}
    finally:
        db.dispose()
