"""Migration 0024 matches the models (Alembic's comparison finds nothing for the webhook
tables) and downgrades and upgrades again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all

TABLES = {"webhook_subscriptions", "webhook_deliveries", "webhook_attempts"}


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in TABLES)


def test_0024_matches_the_models_and_downgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    metadata = load_all().metadata
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diffs if _mine(d)] == []
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    config = alembic_config()
    below = ScriptDirectory.from_config(config).get_revision("0024").down_revision
    assert isinstance(below, str)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, below)
    assert not set(inspect(db.engine).get_table_names()) & TABLES
    upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    db.dispose()
