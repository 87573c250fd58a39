"""The KPI exports as HTTP answers, for the desktop and the API alike: a streamed CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from starlette.responses import StreamingResponse

from threadline.jobs.runtime import Runtime
from threadline.kpis.dashboards import export
from threadline.kpis.dashboards.build import names
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.service import table_of


def csv_response(rows: Iterator[str], name: str) -> StreamingResponse:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="threadline-{name}-{stamp}.csv"',
        "cache-control": "no-store"})


def export_rows(runtime: Runtime, session: Any, filters: Filters,
                table: str) -> tuple[Iterator[str], str]:
    """The CSV's parts and a file name: "facts" (every filtered conversation, streamed by
    keyset reads in their own short transactions) or "<group>.<table>"."""
    if table == "facts":
        known = names(session, filters.workspace_id)
        return export.facts_csv(lambda: runtime.db.session(write=False), filters,
                                known), "facts"
    board, found = table_of(session, table, filters.without_drill())
    return export.table_csv(board, found), table.replace(".", "-")
