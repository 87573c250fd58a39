"""Migration 0013 matches the models (Alembic's comparison finds nothing for routing's tables
and columns), and downgrades and upgrades again on a database with data."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all

ROUTING_TABLES = {"team_members", "routing_rules"}
ROUTING_COLUMNS = {"skills", "language_required", "capacity_realtime", "capacity_delayed",
                   "last_seen_at", "last_assigned_at", "work_kind", "required_skills",
                   "routed_by", "routed_reason", "routed_at", "queued_at"}
ROUTING_INDEXES = {"ix_conversations_load", "ix_conversations_team_queue",
                   "ix_routing_rules_workspace_position"}


def _mine(diff: object) -> bool:
    text = repr(diff)
    return (any(t in text for t in ROUTING_TABLES) or any(f"'{c}'" in text
                                                          for c in ROUTING_COLUMNS)
            or any(i in text for i in ROUTING_INDEXES))


def test_0013_matches_the_models_and_downgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    metadata = load_all().metadata
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diffs if _mine(d)] == []
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    names = set(inspect(db.engine).get_table_names())
    assert not names & ROUTING_TABLES
    assert "work_kind" not in {c["name"] for c in inspect(db.engine).get_columns(
        "conversations")}
    upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= ROUTING_TABLES
    db.dispose()
