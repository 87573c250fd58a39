"""Migration 0020 matches the models (Alembic's comparison finds nothing for the quality
tables), and downgrades to the revision before it and upgrades again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all

QUALITY_TABLES = {"quality_scorecards", "quality_scorecard_versions", "quality_reviews"}


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in QUALITY_TABLES)


def test_0020_matches_the_models_and_downgrades(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'q.db'}")
    upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= QUALITY_TABLES
    metadata = load_all().metadata
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diffs if _mine(d)] == []
    indexes = {i["name"] for i in inspect(db.engine).get_indexes("quality_reviews")}
    assert {"ix_quality_reviews_workspace_reviewed", "ix_quality_reviews_queue"} <= indexes
    config = alembic_config()
    before = ScriptDirectory.from_config(config).get_revision("0020").down_revision
    assert isinstance(before, str)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, before)
    assert not set(inspect(db.engine).get_table_names()) & QUALITY_TABLES
    upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= QUALITY_TABLES
    db.dispose()


def test_the_suites_database_matches_the_models(runtime) -> None:
    """The same comparison on the suite's database (PostgreSQL when configured)."""
    with runtime.db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), load_all().metadata)
    assert [d for d in diffs if _mine(d)] == []
