"""After an erasure, the database files themselves: deleted and overwritten values linger in
free pages and in the write-ahead log until the database rewrites them. The `subjects.compact`
job (enqueued by every erasure) does that, once per database engine:

- SQLite: VACUUM rebuilds the file without free pages, then a TRUNCATE checkpoint empties the
  write-ahead log; a reader holding the log makes the job retry later.
- PostgreSQL: VACUUM of the tables erasure touches, so dead row versions are reclaimed now
  rather than at autovacuum's leisure (the pages are reused; a VACUUM FULL would be needed to
  return them to the operating system, and is left to the operator).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from threadline.jobs.registry import Job, RetryLater, handler
from threadline.subjects.erasers import ERASERS
from threadline.subjects.service import COMPACT_JOB

TOUCHED = tuple(e.table for e in ERASERS if e.run is not None)


def compact(engine: Engine) -> None:
    """Make erased values unrecoverable from the database files (one function per
    database: raises RetryLater while SQLite readers hold the log)."""
    if engine.dialect.name == "sqlite":
        raw: Any = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("VACUUM")
            busy, _log, _done = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        if busy:
            raise RetryLater("readers hold the write-ahead log", seconds=5)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in TOUCHED:
            conn.exec_driver_sql(f'VACUUM "{table}"')


@handler(COMPACT_JOB)
def compact_job(runtime: Any, job: Job) -> None:
    compact(runtime.db.engine)
