"""REST: the KPI dashboards for BI tools (supervisors and admins). The same filters as the
desktop (docs/dashboards.md): a date range in the wrong order, over 366 days, or a filter
value the workspace does not have (a channel that does not exist, another workspace's team,
agent or account) is a typed 422 naming the field."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from threadline.errors import Conflict, NotFound
from threadline.kpis.dashboards import drill
from threadline.kpis.dashboards.costs import Costs, costs_of, set_costs
from threadline.kpis.dashboards.filters import DRILLS, FILTERS, parse_filters
from threadline.kpis.dashboards.origins import record_origin
from threadline.kpis.dashboards.schemas import Dashboard, FactsPage, Group, OriginIn
from threadline.kpis.dashboards.service import dashboard
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    admin,
    current_principal,
    runtime_of,
    supervisor,
)
from threadline.web.kpis_csv import csv_response, export_rows

router = APIRouter(tags=["KPIs"])
Supervisor = Annotated[Principal, Depends(supervisor)]
Admin = Annotated[Principal, Depends(admin)]
Anyone = Annotated[Principal, Depends(current_principal)]
Text = Annotated[str | None, Query(max_length=120)]
Day = Annotated[str | None, Query(alias="from", max_length=10, description="First day, "
                                  "YYYY-MM-DD (UTC, on opened_at); default 29 days before "
                                  "`to`.")]


class FilterParams:
    """The filters every KPI route takes (as query parameters)."""

    def __init__(self, request: Request, from_: Day = None,
                 to: Annotated[str | None, Query(max_length=10, description="Last day, "
                                                 "YYYY-MM-DD; default today.")] = None,
                 team: Annotated[uuid.UUID | None, Query(description="A team id.")] = None,
                 agent: Annotated[uuid.UUID | None, Query(description="The assignee.")] = None,
                 channel: Annotated[str | None, Query(max_length=32, description="Where the "
                                                      "conversation started (x, whatsapp...)."
                                                      )] = None,
                 account: Annotated[uuid.UUID | None, Query(description="A channel "
                                                            "account id.")] = None,
                 category: Annotated[str | None, Query(max_length=32, description="A triage "
                                                       "category, or none.")] = None) -> None:
        del from_, to, team, agent, channel, account, category  # read raw below (one parser)
        self.raw = {k: v for k, v in request.query_params.items() if k in (*FILTERS, *DRILLS)}


class DrillParams:
    """The drill-down's criteria (added to the filters; see docs/dashboards.md)."""

    def __init__(self, hour: Annotated[int | None, Query(ge=0, le=23)] = None,
                 visibility: Text = None, relevance: Text = None, origin: Text = None,
                 path: Text = None, resolved_on: Text = None, sentiment: Text = None,
                 csat: Annotated[int | None, Query(ge=1, le=5)] = None, worked_by: Text = None,
                 resolved_by: Text = None, flag: Text = None) -> None:
        del hour, visibility, relevance, origin, path, resolved_on, sentiment, csat
        del worked_by, resolved_by, flag


Filtered = Annotated[FilterParams, Depends()]
Drilled = Annotated[DrillParams, Depends()]


@router.get("/kpis/conversations", response_model=FactsPage, responses=errors(role=True))
def facts(principal: Supervisor, session: ReadSession, params: Filtered, _drill: Drilled,
          cursor: Annotated[str | None, Query(max_length=120)] = None,
          limit: Annotated[int, Query(ge=1, le=drill.MAX_PAGE)] = drill.PAGE) -> FactsPage:
    """The facts of the filtered conversations (docs/kpis.md), newest first, a page at a
    time: the conversations behind any dashboard number (its `drill` criteria)."""
    filters = parse_filters(session, principal.workspace_id, params.raw, drill=True)
    rows, following = drill.facts_page(session, filters, cursor=cursor, limit=limit)
    return drill.as_page(rows, following)


@router.get("/kpis/export.csv", responses={**errors(NotFound, role=True), 200: {
    "content": {"text/csv": {}}, "description": "CSV, streamed."}},
    response_class=StreamingResponse)
def export_csv(request: Request, principal: Supervisor, session: ReadSession,
               params: Filtered, _drill: Drilled,
               table: Annotated[str, Query(max_length=80, description="facts (every "
                                           "filtered conversation), or <group>.<table key> "
                                           "(e.g. quality.by_channel).")] = "facts",
               ) -> StreamingResponse:
    """A dashboard table, or the facts of every filtered conversation (streamed: flat
    memory whatever the number of rows). Text cells a spreadsheet would run as a formula
    are prefixed with an apostrophe."""
    filters = parse_filters(session, principal.workspace_id, params.raw,
                            drill=table == "facts")
    rows, name = export_rows(runtime_of(request), session, filters, table)
    return csv_response(rows, name)


@router.get("/kpis/settings", response_model=Costs, responses=errors(role=True))
def get_costs(principal: Supervisor, session: ReadSession) -> Costs:
    """The hourly cost the economics dashboard uses."""
    return costs_of(session, principal.workspace_id)


@router.put("/kpis/settings", response_model=Costs, responses=errors(role=True))
def put_costs(body: Costs, principal: Admin, session: WriteSession) -> Costs:
    """Set the hourly cost of an agent's active hour (and its currency)."""
    return set_costs(session, principal.workspace_id, body, principal.actor)


@router.put("/kpis/conversations/{conversation_id}/origin", response_model=dict[str, Any],
            responses=errors(NotFound, Conflict))
def put_origin(conversation_id: uuid.UUID, body: OriginIn, principal: Anyone,
               session: WriteSession) -> dict[str, Any]:
    """Record where the conversation began off the platform: {"origin_source": "store" |
    "order_page" | "website" | ... | "campaign:<name>" | null}."""
    found = record_origin(session, principal.workspace_id, conversation_id,
                          body.origin_source, principal.actor)
    return {"conversation_id": str(conversation_id), "origin_source": found.origin_source}


@router.get("/kpis/{group}", response_model=Dashboard, responses=errors(role=True))
def group_numbers(group: Group, principal: Supervisor, session: ReadSession,
                  params: Filtered) -> Dashboard:
    """One KPI group (quantity, quality, feedback, outcome, economics, journeys) for the
    filters: headline numbers, charts' series and tables, each number with the `drill`
    criteria of its conversations (GET /api/v1/kpis/conversations)."""
    filters = parse_filters(session, principal.workspace_id, params.raw)
    return dashboard(session, group, filters)
