"""Per-workspace serialisation of writers that must not interleave (threading, erasure)."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session


def workspace_lock(session: Session, workspace_id: uuid.UUID, scope: str = "") -> None:
    """Hold the workspace's lock until the transaction ends (PostgreSQL advisory lock);
    SQLite has one writer at a time already. `scope` names an independent lock of the same
    workspace ("" for threading and erasure, "operations" for routing and service levels)."""
    if session.get_bind().dialect.name == "postgresql":
        seed = workspace_id.bytes + scope.encode()
        key = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
