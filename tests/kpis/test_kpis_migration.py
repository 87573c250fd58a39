"""Migration 0018 matches the models (Alembic's comparison finds nothing for the KPI
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

KPI_TABLES = {"conversation_facts", "conversation_episodes", "conversation_segments",
              "agent_activity"}


def _mine(diff: object) -> bool:
    return any(table in repr(diff) for table in KPI_TABLES)


def test_0018_matches_the_models_and_downgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    metadata = load_all().metadata
    assert set(metadata.tables) >= KPI_TABLES
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diffs if _mine(d)] == []
    facts = {c["name"] for c in inspect(db.engine).get_columns("conversation_facts")}
    # the columns the dashboards read (kpis/dashboards reads them)
    assert {"journey", "handle_s", "fcr", "hop_taken", "returned_to_origin",
            "return_delay_s", "sla_first_response_met", "sentiment_end",
            "origin_source", "resolved_by_id", "next_response_max_s"} <= facts
    config = alembic_config()
    # whatever 0018 follows (the migrations of one issue are re-chained when merged)
    previous = ScriptDirectory.from_config(config).get_revision("0018").down_revision
    assert isinstance(previous, str)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, previous)
    assert not set(inspect(db.engine).get_table_names()) & KPI_TABLES
    upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= KPI_TABLES
    db.dispose()
