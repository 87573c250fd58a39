"""One entry point per use: a group's dashboard, a table of it, the names the pages need."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from threadline.errors import NotFound
from threadline.kpis.dashboards.build import Names, names
from threadline.kpis.dashboards.economics import economics
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.journeys import journeys
from threadline.kpis.dashboards.outcome import outcome
from threadline.kpis.dashboards.quality import quality
from threadline.kpis.dashboards.quantity import quantity
from threadline.kpis.dashboards.satisfaction import satisfaction
from threadline.kpis.dashboards.schemas import Dashboard, Group, Table

Builder = Callable[[Session, Filters, Names], Dashboard]
BUILDERS: dict[Group, Builder] = {
    Group.quantity: quantity, Group.quality: quality, Group.feedback: satisfaction,
    Group.outcome: outcome, Group.economics: economics, Group.journeys: journeys,
}


def dashboard(session: Session, group: Group, filters: Filters,
              known: Names | None = None) -> Dashboard:
    """The group's numbers, charts and tables for the filters (read-only)."""
    return BUILDERS[group](session, filters.without_drill(),
                           known or names(session, filters.workspace_id))


def table_of(session: Session, spec: str, filters: Filters) -> tuple[Dashboard, Table]:
    """"<group>.<table key>" (e.g. quality.by_channel): 404 when there is no such table."""
    group_name, _, key = spec.partition(".")
    try:
        group = Group(group_name)
    except ValueError:
        raise NotFound(f"no dashboard table {spec[:60]!r}", code="unknown_table") from None
    board = dashboard(session, group, filters)
    found = board.table(key)
    if found is None:
        raise NotFound(f"no dashboard table {spec[:60]!r}", code="unknown_table")
    return board, found
