"""SQL pieces the dashboards share, one implementation per database behind one name: the
UTC day and hour of a time, and exact percentiles.

Percentiles are exact and interpolated the way PostgreSQL's `percentile_cont` does it (the
value at rank (n - 1) * p, between the two nearest rows): on PostgreSQL `percentile_cont`
itself, every group and the total in one query (grouping sets); on SQLite, which has no
percentile function, one read of the filtered rows' columns (an index range: the dashboard
index covers them), sorted and interpolated in Python.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

from threadline.kpis.models import ConversationFacts

F = ConversationFacts
TOTAL = "*"  # the key of the overall percentiles


class day_of(FunctionElement[str]):
    """The UTC day of a stored time, as 'YYYY-MM-DD'."""

    type = String()
    inherit_cache = True


class hour_of(FunctionElement[int]):
    """The UTC hour (0-23) of a stored time."""

    type = Integer()
    inherit_cache = True


@compiles(day_of, "sqlite")
def _day_sqlite(element: day_of, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTC times as 'YYYY-MM-DD HH:MM:SS.ffffff' text (db/base.py)
    return f"substr({compiler.process(next(iter(element.clauses)), **kw)}, 1, 10)"


@compiles(day_of)
def _day_default(element: day_of, compiler: Any, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(hour_of, "sqlite")
def _hour_sqlite(element: hour_of, compiler: Any, **kw: Any) -> str:
    return f"CAST(substr({compiler.process(next(iter(element.clauses)), **kw)}, 12, 2) AS INTEGER)"


@compiles(hour_of)
def _hour_default(element: hour_of, compiler: Any, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(EXTRACT(hour FROM ({column}) AT TIME ZONE 'UTC') AS INTEGER)"


def opened_in_hour(hour: int) -> ColumnElement[bool]:
    return hour_of(F.opened_at) == hour


def count_if(condition: ColumnElement[bool]) -> Any:
    """The number of rows where `condition` holds (portable: a sum of 1s)."""
    return func.coalesce(func.sum(cast(condition, Integer)), 0)


def avg(column: Any) -> Any:
    return func.avg(type_coerce(column, Float))


def ratio(part: float | int | None, whole: float | int | None) -> float | None:
    """A percentage, None when there is nothing to divide by."""
    if not whole or part is None:
        return None
    return round(100.0 * float(part) / float(whole), 1)


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def interpolate(ordered: Sequence[float], p: float) -> float | None:
    """percentile_cont: the value at rank (n - 1) * p of the sorted values, interpolated."""
    if not ordered:
        return None
    h = (len(ordered) - 1) * p
    low, high = math.floor(h), math.ceil(h)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


Percentiles = dict[str, dict[str, dict[float, float | None]]]  # column -> key -> p -> value


def percentiles(session: Session, columns: dict[str, Any],
                conditions: Sequence[ColumnElement[bool]], ps: Sequence[float], *,
                by: Any = None, totals_only: Collection[str] = ()) -> Percentiles:
    """Exact percentiles `ps` of each of `columns` (by name) over the rows `conditions` keep,
    NULLs left out: {name: {TOTAL: {p: value}}}, and with `by` one entry per value of `by`
    (as text) beside TOTAL, except for the columns named in `totals_only`. One query either
    way."""
    if dialect(session) == "postgresql":
        return _percentiles_pg(session, columns, conditions, ps, by)
    return _percentiles_read(session, columns, conditions, ps, by, totals_only)


def _percentiles_pg(session: Session, columns: dict[str, Any],
                    conditions: Sequence[ColumnElement[bool]], ps: Sequence[float],
                    by: Any) -> Percentiles:
    aggregates = [func.percentile_cont(p).within_group(column.asc())
                  for column in columns.values() for p in ps]
    stmt = select(*aggregates).where(*conditions)
    if by is not None:  # every group and the total in one pass
        stmt = select(by, func.grouping(by), *aggregates).where(*conditions).group_by(
            func.grouping_sets(tuple_of(by), tuple_of()))
    found: Percentiles = {name: {} for name in columns}
    for row in session.execute(stmt):
        values = list(row)
        key = TOTAL
        if by is not None:
            group, rolled, values = values[0], values[1], values[2:]
            key = TOTAL if rolled else str(group)
        for i, name in enumerate(columns):
            found[name][key] = {p: (float(v) if v is not None else None) for p, v in zip(
                ps, values[i * len(ps):(i + 1) * len(ps)], strict=True)}
    for name in columns:
        found[name].setdefault(TOTAL, dict.fromkeys(ps))
    return found


def tuple_of(*columns: Any) -> Any:
    """An SQL grouping set: `(a, b)`, or `()` for the total."""
    return _GroupingSet(*columns)


class _GroupingSet(FunctionElement[Any]):
    inherit_cache = True
    name = ""


@compiles(_GroupingSet)
def _grouping_set(element: _GroupingSet, compiler: Any, **kw: Any) -> str:
    return "(" + ", ".join(compiler.process(c, **kw) for c in element.clauses) + ")"


def _percentiles_read(session: Session, columns: dict[str, Any],
                      conditions: Sequence[ColumnElement[bool]], ps: Sequence[float],
                      by: Any, totals_only: Collection[str]) -> Percentiles:
    """SQLite: the filtered rows' values, read in one pass over the dashboard index, sorted
    and interpolated here (a window function sorts them in temporary B-trees: 4x slower)."""
    key = type_coerce(by, String) if by is not None else literal(TOTAL)
    # the driver's own rows: text and floats need no conversion, and building 100,000
    # result rows would take three times the read itself
    rows = session.connection().execute(select(key, *columns.values())
                                         .where(*conditions)).cursor.fetchall()
    found: Percentiles = {name: {TOTAL: dict.fromkeys(ps)} for name in columns}
    if not rows:
        return found
    # one column at a time, picked from the rows (transposing with zip(*rows) builds 100,000
    # argument iterators: slower than all the sorting)
    groups = [r[0] for r in rows] if by is not None else None
    for j, name in enumerate(columns, start=1):
        if groups is None or name in totals_only:
            ordered = [v for v in map(itemgetter(j), rows) if v is not None]
            ordered.sort()
            found[name][TOTAL] = {p: interpolate(ordered, p) for p in ps}
            continue
        runs: dict[Any, list[float]] = {group: [] for group in set(groups)}
        for group, value in zip(groups, map(itemgetter(j), rows), strict=True):
            if value is not None:
                runs[group].append(value)
        for group, run in runs.items():
            run.sort()
            found[name][str(group)] = {p: interpolate(run, p) for p in ps}
        ordered = sorted(chain.from_iterable(runs.values()))  # merges the groups' sorted runs
        found[name][TOTAL] = {p: interpolate(ordered, p) for p in ps}
    return found
