"""One check for a migration: after `upgrade`, Alembic's comparison finds nothing about what
the migration made; downgrading to the revision before removes it, upgrading brings it back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all


def model_diffs(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection),
                                     load_all().metadata))


def downgrade(db: Database, revision: str) -> None:
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def has_table(name: str) -> Callable[[Database], bool]:
    return lambda db: name in inspect(db.engine).get_table_names()


def has_column(table: str, column: str) -> Callable[[Database], bool]:
    return lambda db: column in {c["name"] for c in inspect(db.engine).get_columns(table)}


def mentions(*words: str) -> Callable[[object], bool]:
    """A difference whose description names every one of `words`."""
    return lambda diff: all(word in repr(diff) for word in words)


def check_round_trip(tmp_path: Path, *, before: str, present: Callable[[Database], bool],
                     about: Callable[[object], bool]) -> Database:
    """Run the check; returns the upgraded database (disposed by the caller) for more
    assertions."""
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    assert present(db)
    assert [d for d in model_diffs(db) if about(d)] == []
    downgrade(db, before)
    assert not present(db)
    upgrade(db)
    assert present(db)
    return db
