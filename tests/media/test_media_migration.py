"""Migration 0028 matches the models (Alembic's comparison finds nothing for the
`attachments` table), and downgrades and upgrades again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all


def _about_attachments(diff: object) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item if isinstance(item, tuple) else (item,):
            name = getattr(part, "name", None)
            table = getattr(getattr(part, "table", None), "name", None)
            if "attachments" in (name, table) and table != "messages":
                return True
    return False


def test_0028_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), load_all().metadata)
    assert [d for d in diffs if _about_attachments(d)] == []
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0027")
    assert "attachments" not in inspect(db.engine).get_table_names()
    upgrade(db)
    assert "attachments" in inspect(db.engine).get_table_names()
    db.dispose()
