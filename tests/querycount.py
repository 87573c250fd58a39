"""How many SQL statements a piece of code runs, in the spirit of Zulip's
`assert_database_query_count`: a page or a list whose count grows with the rows it shows has
an N+1 query; a count that changes at all is a change to review."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from threadline.jobs.runtime import Runtime

DATA_STATEMENTS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"})


@dataclass
class Queries:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return f"{self.count} statements:\n" + "\n".join(
            f"  {i}. {s.splitlines()[0][:160]}" for i, s in enumerate(self.statements, 1))


@contextmanager
def count_queries(runtime: Runtime) -> Iterator[Queries]:
    """Every statement sent to the database inside the block (any connection of the engine)."""
    queries = Queries()

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # data statements only: the dialects differ in their session set-up (SQLite's
        # BEGIN and PRAGMAs, PostgreSQL's none), not in the queries a page needs
        if statement.lstrip().split(None, 1)[0].upper() in DATA_STATEMENTS:
            queries.statements.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", listen)
    try:
        yield queries
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", listen)


@contextmanager
def assert_database_query_count(runtime: Runtime, count: int) -> Iterator[Queries]:
    """Fail unless the block runs exactly `count` statements (the message lists them)."""
    with count_queries(runtime) as queries:
        yield queries
    assert queries.count == count, str(queries)
