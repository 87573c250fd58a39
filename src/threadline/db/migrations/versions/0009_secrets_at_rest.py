"""secrets at rest: channel credentials encrypted, raw payloads purged after their retention

`channel_accounts.config` becomes a text column holding one Fernet token (db/crypto.py);
existing configurations are encrypted with the first key of the ring bound to the migrating
engine (downgrade decrypts them back to JSON). `inbound_events.purged_at` marks a raw event
whose payload was emptied by the retention job (events/retention.py); the row itself stays,
so its (account, provider event id) still rejects a late duplicate delivery.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from threadline.db.crypto import decrypt_json, encrypt_json, keyring_for

revision: str = "0009"
down_revision: str | tuple[str, ...] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _accounts(kind: Any) -> sa.TableClause:
    return sa.table("channel_accounts", sa.column("id", sa.Uuid()), sa.column("config", kind))


def _set_type(kind: Any, existing: Any, using: str) -> None:
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
