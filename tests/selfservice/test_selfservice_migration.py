"""Migration 0033 matches the models (Alembic's comparison finds nothing about the bot's
tables), downgrades and upgrades again."""

from __future__ import annotations

from tests.migrations import check_round_trip, has_table, mentions


def test_0033_round_trip(tmp_path):
    db = check_round_trip(tmp_path, before="0032", present=has_table("selfservice_sessions"),
                          about=mentions("selfservice"))
    try:
        assert has_table("selfservice_replies")(db)
    finally:
        db.engine.dispose()
