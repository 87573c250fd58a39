"""Migration 0022 (the dashboards' covering index) matches the models and downgrades."""

from __future__ import annotations

from sqlalchemy import inspect

from tests.migrations import check_round_trip, mentions
from threadline.db.engine import Database
from threadline.kpis.dashboards.indexes import DASHBOARD_COLUMNS


def _indexes(db: Database) -> dict[str, list[str]]:
    return {i["name"]: list(i["column_names"])
            for i in inspect(db.engine).get_indexes("conversation_facts")}


def test_0022_matches_the_models_and_downgrades(tmp_path):
    db = check_round_trip(tmp_path, before="0018",
                          present=lambda db: "ix_conversation_facts_dashboard" in _indexes(db),
                          about=mentions("conversation_facts"))
    assert _indexes(db)["ix_conversation_facts_dashboard"] == list(DASHBOARD_COLUMNS)
    assert len(DASHBOARD_COLUMNS) <= 32  # PostgreSQL's limit
    db.dispose()
