"""CSV exports: any dashboard table, and the per-conversation facts of the filtered
conversations, streamed.

The facts are read in chunks by keyset (ix_conversation_facts_keyset: each chunk starts
where the last ended, in its own short read transaction) and written out chunk by chunk, so
memory stays flat whatever the number of rows. Text cells that a spreadsheet would take for a
formula (starting with = + - @, a tab or a carriage return) are prefixed with an apostrophe;
numbers are written as numbers."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from threadline.kpis.dashboards.build import Names
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.schemas import FACT_COLUMNS, Dashboard, Table
from threadline.kpis.models import ConversationFacts

F = ConversationFacts
CHUNK = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NAMED = (("team_id", "team"), ("assignee_id", "assignee"), ("resolved_by_id", "resolved_by"),
         ("origin_account_id", "origin_account"))
FACT_HEADER = [*FACT_COLUMNS, *(name for _, name in NAMED)]

SessionFactory = Callable[[], AbstractContextManager[Session]]


def cell(value: Any) -> str | int | float:
    """One CSV cell: numbers as they are, times in ISO 8601, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def _lines(rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buffer.getvalue()


def table_csv(dashboard: Dashboard, table: Table) -> Iterator[str]:
    """A dashboard table: its label column, then one column per figure."""
    yield _lines([[table.title, *(f"{c.label} ({c.unit})" if c.unit not in ("count", "text")
                                   else c.label for c in table.columns)]])
    counts = [c.unit == "count" for c in table.columns]
    yield _lines([row.label, *(int(v) if is_count and isinstance(v, float) and v.is_integer()
                               else v for v, is_count in zip(row.cells, counts, strict=True))]
                 for row in table.rows)
    del dashboard


def facts_csv(sessions: SessionFactory, filters: Filters, names: Names, *,
              chunk: int = CHUNK) -> Iterator[str]:
    """The facts of every filtered conversation, oldest first, `chunk` rows per read."""
    columns = [getattr(F, name) for name in FACT_COLUMNS]
    look = {"team_id": names.team, "assignee_id": names.agent,
            "resolved_by_id": names.agent, "origin_account_id": names.account}
    positions = [(FACT_COLUMNS.index(key), look[key]) for key, _ in NAMED]
    yield _lines([FACT_HEADER])
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        stmt = select(*columns).where(*filters.conditions())
        if after is not None:
            at, key = after
            stmt = stmt.where(F.opened_at >= at, or_(F.opened_at > at, and_(
                F.opened_at == at, F.conversation_id > key)))
        stmt = stmt.order_by(F.workspace_id, F.opened_at, F.conversation_id).limit(chunk)
        with sessions() as session:
            rows = session.execute(stmt).all()
        if not rows:
            return
        yield _lines([*row, *(name(row[i]) if row[i] is not None else "" for i, name in
                              positions)] for row in rows)
        if len(rows) < chunk:
            return
        last = rows[-1]
        after = (last.opened_at, last.conversation_id)
