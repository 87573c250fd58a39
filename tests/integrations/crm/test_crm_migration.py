"""Migration 0025 matches the models (Alembic's comparison finds nothing for the CRM
tables), and downgrades and upgrades again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all

CRM_TABLES = {"crm_connections", "crm_links", "crm_activities", "crm_sync_log"}


def test_0025_matches_the_models_and_downgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    metadata = load_all().metadata
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diffs if any(t in repr(d) for t in CRM_TABLES)] == []
    config = alembic_config()
    below = ScriptDirectory.from_config(config).get_revision("0025").down_revision
    assert isinstance(below, str)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, below)
    assert not set(inspect(db.engine).get_table_names()) & CRM_TABLES
    upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= CRM_TABLES
    db.dispose()


def test_the_test_database_matches_the_models(runtime):
    """The same comparison on the run's own database (PostgreSQL in CI: JSONB, booleans)."""
    metadata = load_all().metadata
    with runtime.db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diffs if any(t in repr(d) for t in CRM_TABLES)] == []
