"""Migration 0027 matches the models (Alembic's comparison finds nothing for
`detail_requests`), and downgrades and upgrades again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all


def test_0027_matches_the_models_and_downgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), load_all().metadata)
    assert [d for d in diffs if "detail_requests" in repr(d)] == []
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0026")
    assert "detail_requests" not in inspect(db.engine).get_table_names()
    upgrade(db)
    assert "detail_requests" in inspect(db.engine).get_table_names()
    db.dispose()
