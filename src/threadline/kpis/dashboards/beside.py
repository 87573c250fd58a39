"""A dashboard's reads side by side: a read that SQLite runs in C (a grouped aggregate, which
releases Python's lock while it runs) goes to a second connection in a thread while the
request's own session does the reads whose cost is in Python (the percentiles' sorting). Two
cores give the tab about the time of the longer half instead of the sum.

The second session reads the same database in its own deferred (read) transaction; SQLite
in WAL mode and PostgreSQL give it a snapshot taken when it starts, so the two halves can
differ by what was committed between their first reads: a few conversations of the last
seconds, as between two tabs. Only a read session (`Database.session(write=False)`) is
joined by a second one: a writer's session may hold work no other connection can see yet,
so there the function runs in the caller's session, after the caller's own reads."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

T = TypeVar("T")

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dashboard-read")


def beside(session: Session, fn: Callable[[Session], T]) -> Future[T]:
    """Start `fn` with a read session of its own on `session`'s database; `.result()` gives
    its answer (or raises its error)."""
    bind = session.get_bind()
    if not session.info.get("read_only") or not isinstance(bind, Engine):
        done: Future[T] = Future()
        try:
            done.set_result(fn(session))
        except Exception as exc:  # the caller sees it from .result(), as from a thread
            done.set_exception(exc)
        return done

    def run() -> T:
        with Session(bind=bind) as other:
            try:
                return fn(other)
            finally:
                other.rollback()

    return _POOL.submit(run)
