"""Migration 0026 matches the models (Alembic's comparison finds nothing for the lookup
tables) and downgrades and upgrades again; the outcomes the API documents are the models'."""

from __future__ import annotations

import typing

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from threadline.db.engine import Database
from threadline.db.migrate import alembic_config, upgrade
from threadline.db.models import load_all
from threadline.integrations.lookup.models import Outcome
from threadline.integrations.lookup.schemas import LookupState

TABLES = {"lookup_endpoints", "lookup_cache"}


def test_0026_matches_the_models_and_downgrades(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    metadata = load_all().metadata
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diffs if any(t in repr(d) for t in TABLES)] == []
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    config = alembic_config()
    below = ScriptDirectory.from_config(config).get_revision("0026").down_revision
    assert isinstance(below, str)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, below)
    assert not set(inspect(db.engine).get_table_names()) & TABLES
    upgrade(db)
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    db.dispose()


def test_the_documented_states_are_the_outcomes_and_off() -> None:
    assert set(typing.get_args(LookupState)) == {"off", *Outcome.ALL}
