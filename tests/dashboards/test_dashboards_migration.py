"""Migration 0022 (the dashboards' covering index) matches the models and downgrades."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all
from threadline.kpis.dashboards.indexes import DASHBOARD_COLUMNS


def _indexes(db: Database) -> dict[str, list[str]]:
    return {i["name"]: list(i["column_names"])
            for i in inspect(db.engine).get_indexes("conversation_facts")}


def test_0022_matches_the_models_and_downgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), load_all().metadata)
    assert [d for d in diffs if "conversation_facts" in repr(d)] == []
    assert _indexes(db)["ix_conversation_facts_dashboard"] == list(DASHBOARD_COLUMNS)
    assert len(DASHBOARD_COLUMNS) <= 32  # PostgreSQL's limit
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0018")
    assert "ix_conversation_facts_dashboard" not in _indexes(db)
    upgrade(db)
    assert "ix_conversation_facts_dashboard" in _indexes(db)
    db.dispose()
