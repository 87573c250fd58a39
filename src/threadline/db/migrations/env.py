"""Alembic environment: runs against the engine handed over in config attributes, or the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from threadline.db.engine import make_engine
from threadline.db.models import load_all

target_metadata = load_all().metadata
config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
