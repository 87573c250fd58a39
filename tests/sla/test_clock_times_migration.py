"""Migration 0021 on a database of its own (SQLite, or PostgreSQL when
THREADLINE_TEST_DATABASE_URL is set): a clock's times written before it read back the same
through the model after it (SQLite: text to integer microseconds, exactly), and again after
a downgrade and an upgrade; `ix_conversations_sla` goes and comes back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.core.test_durability import own_database
from tests.queue_order.test_queue_migration import _downgrade, _index_sql, _insert
from threadline.db.engine import Database
from threadline.db.migrate import upgrade
from threadline.sla.models import SlaClock

WHEN = datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC)  # a second before DST in Europe


def _clock(db: Database, conv_id: uuid.UUID) -> SlaClock:
    with Session(db.engine) as session:
        clock = session.get(SlaClock, conv_id)
        assert clock is not None
        session.expunge(clock)
        return clock


def test_clock_times_survive_up_down_and_up(tmp_path) -> None:
    db = Database(own_database(tmp_path))
    ws, conv_id = uuid.uuid4(), uuid.uuid4()
    due = WHEN + timedelta(hours=2, microseconds=1)
    try:
        upgrade(db, "0017")
        with db.engine.begin() as conn:
            conn.execute(_insert("workspaces", id=ws, name="m", slug="m", settings={},
                                 created_at=WHEN))
            conn.execute(_insert("conversations", id=conv_id, workspace_id=ws, status="open",
                                 priority=4, labels=[], reopen_count=0, message_count=1,
                                 last_message_at=WHEN, created_at=WHEN, updated_at=WHEN,
                                 required_skills=[]))
            conn.execute(_insert("sla_clocks", conversation_id=conv_id, workspace_id=ws,
                                 response_kind="first", response_cycle=1,
                                 response_started_at=WHEN, response_used=12.5,
                                 response_since=WHEN, response_due_at=due,
                                 resolution_used=0.0, next_check_at=due, updated_at=WHEN))
        assert _index_sql(db, "ix_conversations_sla") is not None
        upgrade(db, "0021")
        assert _index_sql(db, "ix_conversations_sla") is None
        clock = _clock(db, conv_id)
        assert (clock.response_started_at, clock.response_since, clock.response_due_at,
                clock.next_check_at, clock.updated_at) == (WHEN, WHEN, due, due, WHEN)
        assert clock.resolution_due_at is None and clock.response_used == 12.5
        if db.dialect == "sqlite":  # stored as integer microseconds
            with db.engine.connect() as conn:
                raw = conn.execute(sa.text(
                    "SELECT response_due_at, typeof(response_due_at) FROM sla_clocks")).one()
            assert raw == ((due - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
                           "integer")
        with db.engine.begin() as conn:  # later clocks compare as times
            found = conn.execute(sa.select(SlaClock.conversation_id).where(
                SlaClock.next_check_at <= due)).scalars().all()
            assert found == [conv_id]
            assert conn.execute(sa.select(SlaClock.conversation_id).where(
                SlaClock.next_check_at < due)).scalars().all() == []

        _downgrade(db, "0017")
        assert _index_sql(db, "ix_conversations_sla") is not None
        upgrade(db)
        clock = _clock(db, conv_id)
        assert (clock.response_started_at, clock.response_due_at, clock.updated_at) == (
            WHEN, due, WHEN)
    finally:
        db.dispose()
