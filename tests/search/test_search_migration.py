"""Migration 0032: the documents table matches the model, the database's own index is
there (SQLite's FTS5 table and triggers; PostgreSQL's tsv column and GIN index), and it
downgrades and upgrades cleanly."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from tests.migrations import check_round_trip, has_table, mentions, model_diffs
from threadline.jobs.runtime import Runtime


def test_0032_round_trip_on_sqlite(tmp_path: Path) -> None:
    db = check_round_trip(tmp_path, before="0031", present=has_table("search_documents"),
                          about=mentions("search_documents"))
    try:
        with db.engine.connect() as conn:
            names = set(conn.scalars(text(
                "SELECT name FROM sqlite_master WHERE name LIKE 'search%'")))
        assert {"search_fts", "search_documents_ai", "search_documents_ad",
                "search_documents_au"} <= names
    finally:
        db.dispose()


def test_the_suites_database_matches_the_model(runtime: Runtime) -> None:
    diffs = [d for d in model_diffs(runtime.db) if mentions("search_documents")(d)]
    if runtime.db.engine.dialect.name == "postgresql":
        # the tsvector column and its GIN index are PostgreSQL's own (not in the model)
        diffs = [d for d in diffs if "tsv" not in repr(d)]
        columns = {c["name"] for c in inspect(runtime.db.engine).get_columns(
            "search_documents")}
        assert "tsv" in columns
    assert diffs == []
