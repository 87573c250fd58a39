"""The acceptance check of secrets at rest: after the tests, the database holds no card number
and no channel credential in clear (docs/decisions/0104-secrets-at-rest.md).

SQLite: the bytes of the database file and its WAL (after a truncating checkpoint), free
pages included; a hit is then named by the table whose text holds it ("free space" when no
live row does). PostgreSQL: every text and JSON column of every table, read with SQL.
The values looked for are the card numbers and credentials the tests use, plus every
secret-looking value of every channel account's configuration (decrypted through the ORM).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Connection, String, Text, cast, inspect, select
from sqlalchemy.types import JSON

KNOWN_SECRETS: tuple[str, ...] = (
    # card numbers (tests/core/test_privacy.py, tests/desktop, tests/security)
    "4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111",
    "4242424242424242", "4242 4242 4242 4242", "5555555555554444", "5555 5555 5555 4444",
    # channel credentials of the sandbox and the channel tests
    "sandbox_secret", "sandbox-token", "sandbox_app_secret", "EAAG-token", "EAAG-page-token",
    "EAAG-sys-token", "123456:ABC-sandbox_token", "test_consumer_secret",
    "host-site-shared-secret", "s3cret",
)
SECRET_KEY = re.compile(r"secret|token|password|passwd|auth|key", re.IGNORECASE)
MIN_DYNAMIC = 8  # shorter configured values ("t", "ck") would match anywhere


def account_secrets(conn: Connection) -> set[str]:
    """Secret-looking values of every channel account's configuration, decrypted."""
    from threadline.workspace.models import ChannelAccount

    found: set[str] = set()
    for (config,) in conn.execute(select(ChannelAccount.config)):
        for key, value in (config or {}).items():
            if (SECRET_KEY.search(key) and isinstance(value, str) and len(value) >= MIN_DYNAMIC
                    and not value.startswith("http")):
                found.add(value)
    return found


def _text_columns(conn: Connection) -> Iterable[tuple[str, str]]:
    inspector = inspect(conn)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], String | Text | JSON) or "JSON" in str(column["type"]):
                yield table, column["name"]


def holders(conn: Connection, values: list[str]) -> dict[str, list[str]]:
    """For each value held by some live row: the `table.column`s that hold it."""
    from sqlalchemy import column, or_, table

    found: dict[str, list[str]] = {}
    for table_name, column_name in _text_columns(conn):
        as_text = cast(column(column_name), Text)
        stmt = (select(as_text).select_from(table(table_name, column(column_name)))
                .where(or_(*(as_text.contains(v, autoescape=True) for v in values))).limit(100))
        for (content,) in conn.execute(stmt):
            for value in values:
                where = f"{table_name}.{column_name}"
                if value in (content or "") and where not in found.get(value, []):
                    found.setdefault(value, []).append(where)
    return found


def checkpoint(path: Path) -> None:
    """Move the WAL into the database file and truncate it (SQLite)."""
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def in_file(path: Path, values: Iterable[str]) -> list[str]:
    """The values present in the bytes of a SQLite database file or its WAL."""
    blobs = [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
    return [value for value in values if any(value.encode() in b for b in blobs)]


def scan(conn: Connection, sqlite_file: Path | None, extra: Iterable[str] = ()) -> list[str]:
    """Every secret found, as "'value' in table.column" (or in the file only).
    Checkpoint a SQLite file before opening `conn` on it."""
    values = sorted({*KNOWN_SECRETS, *account_secrets(conn), *extra})
    rows = holders(conn, values)
    present = in_file(sqlite_file, values) if sqlite_file is not None else list(rows)
    elsewhere = "the file only (free space, WAL or a non-text column)"
    return [f"{v!r} in {', '.join(rows.get(v, [])) or elsewhere}"
            for v in present]
