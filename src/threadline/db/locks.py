"""Per-workspace serialisation of writers that must not interleave (threading, erasure)."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session


def workspace_lock(session: Session, workspace_id: uuid.UUID) -> None:
    """Hold the workspace's lock until the transaction ends (PostgreSQL advisory lock);
    SQLite has one writer at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(workspace_id.bytes).digest()[:8], "big",
                             signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
