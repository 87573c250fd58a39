"""Per-workspace serialisation of writers that must not interleave (threading, erasure), and
what lets several workers thread one workspace's events at once (decision 0334): hashed keys
of what an event touches, recorded when a batch claims it, and a lock per customer."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session


def _key(workspace_id: uuid.UUID, name: str) -> int:
    seed = workspace_id.bytes + name.encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big", signed=True)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def workspace_lock(session: Session, workspace_id: uuid.UUID, scope: str = "", *,
                   shared: bool = False) -> None:
    """Hold the workspace's lock until the transaction ends (PostgreSQL advisory lock);
    SQLite has one writer at a time already. `scope` names an independent lock of the same
    workspace ("" for threading and erasure, "operations" for routing and service levels).
    `shared`: batches of inbound events hold "" shared (they exclude each other by finer
    locks); an erasure holds it alone."""
    if _postgres(session):
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        session.execute(text(f"SELECT {fn}(:k)"), {"k": _key(workspace_id, scope)})


def key_hash(workspace_id: uuid.UUID, name: str) -> int:
    """A 64-bit key for what an inbound event touches (no personal data in it)."""
    return _key(workspace_id, "k:" + name)


def customer_locks(session: Session, workspace_id: uuid.UUID,
                   customer_ids: Iterable[uuid.UUID]) -> None:
    """Wait for the customers' locks in one order (no deadlock between batches): two batches
    never decide about one customer's conversations at once, whatever channel they came by."""
    if not _postgres(session):
        return
    keys = sorted({_key(workspace_id, f"c:{c}") for c in customer_ids})
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
