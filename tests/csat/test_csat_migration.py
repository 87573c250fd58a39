"""Migration 0019 matches the models (Alembic's comparison finds nothing for the CSAT tables),
and downgrades and upgrades again on a database with a survey in it."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all

CSAT_TABLES = {"csat_surveys", "csat_survey_details"}
KPI_COLUMNS = ["id", "workspace_id", "conversation_id", "customer_id", "channel",
               "channel_account_id", "method", "status", "sent_at", "answered_at", "score",
               "comment", "token_hash"]


def _mine(diff: object) -> bool:
    return any(t in repr(diff) for t in CSAT_TABLES)


def test_0019_matches_the_models_and_downgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    metadata = load_all().metadata
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diffs if _mine(d)] == []
    inspector = inspect(db.engine)
    # the columns the dashboards read are the contract (KPIS: csat_surveys)
    assert sorted(c["name"] for c in inspector.get_columns("csat_surveys")) == sorted(KPI_COLUMNS)
    assert {"ix_csat_surveys_workspace_sent"} <= {
        i["name"] for i in inspector.get_indexes("csat_surveys")}
    ws, conv = uuid.uuid4().hex, uuid.uuid4().hex
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (id, name, slug, settings, created_at) "
                          "VALUES (:id, 'w', :slug, '{}', '2025-01-01 00:00:00')"),
                     {"id": ws, "slug": ws[:12]})
        conn.execute(text("INSERT INTO conversations (id, workspace_id, status, priority, "
                          "reopen_count, message_count, last_message_at, labels, "
                          "required_skills, created_at, updated_at) VALUES (:id, :ws, "
                          "'resolved', 4, 0, 0, '2025-01-01', '[]', '[]', '2025-01-01', "
                          "'2025-01-01')"), {"id": conv, "ws": ws})
        conn.execute(text("INSERT INTO csat_surveys (id, workspace_id, conversation_id, "
                          "channel, method, status, sent_at) VALUES (:id, :ws, :c, "
                          "'webchat', 'inline', 'sent', '2025-01-02')"),
                     {"id": uuid.uuid4().hex, "ws": ws, "c": conv})
    config = alembic_config()
    below = ScriptDirectory.from_config(config).get_revision("0019").down_revision
    assert isinstance(below, str)  # one line of migrations (re-chained when merged)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, below)
    assert not set(inspect(db.engine).get_table_names()) & CSAT_TABLES
    upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= CSAT_TABLES
    db.dispose()
