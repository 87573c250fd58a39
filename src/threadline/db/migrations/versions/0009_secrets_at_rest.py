"""secrets at rest: channel credentials encrypted, raw payloads purged after their retention

`channel_accounts.config` becomes a text column holding one Fernet token (db/crypto.py);
existing configurations are encrypted with the first key of the ring bound to the migrating
engine (downgrade decrypts them back to JSON). Messages and processed raw payloads stored
before get their card data, SSNs and passwords masked (triage/redact.py; not undone). `inbound_events.purged_at` marks a raw event
whose payload was emptied by the retention job (events/retention.py); the row itself stays,
so its (account, provider event id) still rejects a late duplicate delivery.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from threadline.db.crypto import decrypt_json, encrypt_json, keyring_for
from threadline.triage.redact import redact, redact_json, stored_text

revision: str = "0009"
down_revision: str | tuple[str, ...] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
CHUNK = 1000


def _accounts(kind: Any) -> sa.TableClause:
    return sa.table("channel_accounts", sa.column("id", sa.Uuid()), sa.column("config", kind))


def _set_type(kind: Any, existing: Any, using: str) -> None:
    """PostgreSQL only. On SQLite the column keeps its declared type: batch mode would copy
    and drop `channel_accounts`, which messages and inbound events reference (the drop fails
    their foreign keys inside the migration's transaction), and a declared JSON column of
    SQLite stores a Fernet token as plain text anyway (it is never a number)."""
    if op.get_bind().dialect.name == "sqlite":
        return
    with op.batch_alter_table("channel_accounts", schema=None) as batch_op:
        batch_op.alter_column("config", type_=kind, existing_type=existing,
                              existing_nullable=False, postgresql_using=using)


def upgrade() -> None:
    bind = op.get_bind()
    ring = keyring_for(bind.dialect)
    old = _accounts(JSON)
    rows = list(bind.execute(sa.select(old.c.id, old.c.config)))
    _set_type(sa.Text(), JSON, "config::text")
    table = _accounts(sa.Text())
    for account_id, config in rows:
        if isinstance(config, str):  # SQLite hands back JSON text when the type is lost
            config = orjson.loads(config)
        bind.execute(table.update().where(table.c.id == account_id)
                     .values(config=encrypt_json(ring, config or {})))
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_inbound_events_unpurged", ["purged_at", "received_at"],
                              unique=False)
    _redact_messages(bind)
    _redact_processed_payloads(bind)


def _chunks(bind: sa.Connection, table: sa.TableClause, *cols: str,
            where: Any = None) -> Iterator[list[Any]]:
    """Rows of `table` (id first) in id order, CHUNK at a time."""
    last: Any = None
    while True:
        stmt = sa.select(table.c.id, *(table.c[c] for c in cols)).order_by(table.c.id)
        if where is not None:
            stmt = stmt.where(where)
        if last is not None:
            stmt = stmt.where(table.c.id > last)
        rows = list(bind.execute(stmt.limit(CHUNK)))
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _redact_messages(bind: sa.Connection) -> None:
    """Messages stored before: card data, SSNs and passwords masked, spans moved."""
    table = sa.table("messages", sa.column("id", sa.Uuid()), sa.column("text", sa.Text()),
                     sa.column("html", sa.Text()), sa.column("subject", sa.Text()),
                     sa.column("triage", JSON))
    for rows in _chunks(bind, table, "text", "html", "subject", "triage"):
        for message_id, text, html, subject, triage in rows:
            values: dict[str, Any] = {}
            stored, moved = stored_text(text or "", triage)
            if stored != (text or ""):
                values.update(text=stored, triage=moved)
            for name, value in (("html", html), ("subject", subject)):
                if value and redact(value) != value:
                    values[name] = redact(value)
            if values:
                bind.execute(table.update().where(table.c.id == message_id).values(**values))


def _redact_processed_payloads(bind: sa.Connection) -> None:
    table = sa.table("inbound_events", sa.column("id", sa.Integer()),
                     sa.column("status", sa.String()), sa.column("payload", JSON))
    for rows in _chunks(bind, table, "payload", where=table.c.status == "done"):
        for event_id, payload in rows:
            clean = redact_json(payload)
            if clean != payload:
                bind.execute(table.update().where(table.c.id == event_id).values(payload=clean))


def downgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_events_unpurged")
        batch_op.drop_column("purged_at")
    bind = op.get_bind()
    ring = keyring_for(bind.dialect)
    table = _accounts(sa.Text())
    rows = [(i, decrypt_json(ring, token)) for i, token in
            bind.execute(sa.select(table.c.id, table.c.config))]
    for account_id, config in rows:
        bind.execute(table.update().where(table.c.id == account_id)
                     .values(config=orjson.dumps(config).decode()))
    _set_type(JSON, sa.Text(), "config::jsonb")
