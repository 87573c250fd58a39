"""Migration 0031 matches the models (Alembic's comparison finds nothing about the knowledge
tables), and downgrades (that branch only: "0031-1") and upgrades again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from tests.migrations import check_round_trip, mentions
from threadline.db.engine import Database

TABLES = ("kb_articles", "kb_article_revisions", "kb_article_votes")


def _present(db: Database) -> bool:
    names = set(inspect(db.engine).get_table_names())
    present = [t in names for t in TABLES]
    assert all(present) or not any(present), present  # all or nothing
    return all(present)


def _about_knowledge(diff: object) -> bool:
    return any(mentions(table)(diff) for table in TABLES)


def test_0031_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    db = check_round_trip(tmp_path, before="0031-1", present=_present, about=_about_knowledge)
    try:
        uniques = {tuple(u["column_names"]) for u in inspect(db.engine).get_unique_constraints(
            "kb_articles")}
        assert ("workspace_id", "language", "slug") in uniques
    finally:
        db.dispose()
