"""KPI dashboards (supervisors and admins): one tab per group, the drill-down list of the
conversations behind a number, CSV exports (streamed) and the hourly cost setting. Every page
parses the same filters (kpis/dashboards/filters.py): a bad one re-renders the page naming
it, with a 422, and shows nothing half-computed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from threadline.errors import NotFound, ValidationFailed
from threadline.kpis.dashboards import drill
from threadline.kpis.dashboards.build import names
from threadline.kpis.dashboards.costs import costs_of, parse_costs, set_costs
from threadline.kpis.dashboards.filters import CATEGORIES, FILTERS, parse_filters
from threadline.kpis.dashboards.schemas import TITLES, Group
from threadline.kpis.dashboards.service import dashboard
from threadline.web.deps import PostedForm, runtime_of
from threadline.web.desktop.render import CHANNEL_LABELS, TEMPLATES, render
from threadline.web.desktop.security import (
    Admin,
    DesktopRoute,
    DeskUser,
    ReadSession,
    Supervisor,
    WriteSession,
    form_value,
)
from threadline.web.kpis_csv import csv_response, export_rows
from threadline.workspace import service as ws_service
from threadline.workspace.auth import list_agents

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
DRILL_PAGE = "/dashboards/conversations"
COSTS_PAGE = "/settings/dashboards"


def drill_url(base: Mapping[str, str], *parts: Mapping[str, str] | None) -> str:
    """The drill-down page for the filters and the criteria in `parts` (later ones win)."""
    merged = dict(base)
    for part in parts:
        merged.update(part or {})
    return f"{DRILL_PAGE}?{urlencode(merged)}"


def figure(value: Any, unit: str) -> str:
    """A number as people read it: 1,234 · 83.4 % · 12.5 min · 4.2 h · 31.20."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "percent":
        return f"{value:.1f} %"
    if unit == "minutes":
        return f"{value:,.1f} min"
    if unit == "hours":
        return f"{value:,.1f} h"
    if unit == "money":
        return f"{value:,.2f}"
    if unit == "seconds":
        return f"{value:,.0f} s"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


TEMPLATES.env.globals.update(drill_url=drill_url)
TEMPLATES.env.filters.update(figure=figure)


def _choices(session: Any, user: DeskUser) -> dict[str, Any]:
    return {"teams": ws_service.list_teams(session, user.workspace_id),
            "agents": list_agents(session, user.workspace_id),
            "accounts": ws_service.list_channel_accounts(session, user.workspace_id),
            "channels": {k: CHANNEL_LABELS.get(k, k) for k in ws_service.channel_kinds(
                session, user.workspace_id)},
            "categories": CATEGORIES}


def _raw(request: Request) -> dict[str, str]:
    return {k: v[:200] for k, v in request.query_params.items() if k in FILTERS}


@router.get("/dashboards")
def dashboards_home(request: Request, user: Supervisor) -> Response:
    query = request.url.query
    return RedirectResponse("/dashboards/quantity" + (f"?{query}" if query else ""),
                            status_code=303)


@router.get(DRILL_PAGE)
def conversations_page(request: Request, user: Supervisor, session: ReadSession) -> Response:
    """The conversations behind a number: the filters and the clicked criteria."""
    context: dict[str, Any] = {**_choices(session, user), "raw": _raw(request)}
    try:
        filters = parse_filters(session, user.workspace_id, request.query_params, drill=True)
        rows, following = drill.facts_page(session, filters,
                                           cursor=request.query_params.get("cursor"))
    except ValidationFailed as exc:
        return render(request, "dashboards_conversations.html",
                      {**context, "error": exc, "rows": []}, status=exc.status)
    query = filters.query(drill=True)
    return render(request, "dashboards_conversations.html", {
        **context, "error": None, "rows": rows, "names": names(session, user.workspace_id),
        "filters": filters, "query": query, "raw": filters.query(),
        "criteria": [(k, v, drill_url({q: x for q, x in query.items() if q != k}))
                     for k, v in filters.drill.items()],
        "next_url": f"{DRILL_PAGE}?{urlencode({**query, 'cursor': following})}"
        if following else None,
        "export_url": "/dashboards/export.csv?" + urlencode({**query, "table": "facts"})})


@router.get("/dashboards/export.csv")
def export_csv(request: Request, user: Supervisor, session: ReadSession) -> Response:
    table = request.query_params.get("table", "facts")[:80]
    filters = parse_filters(session, user.workspace_id, request.query_params,
                            drill=table == "facts")
    rows, name = export_rows(runtime_of(request), session, filters, table)
    return csv_response(rows, name)


# --- the hourly cost ----------------------------------------------------------------------


@router.get(COSTS_PAGE)
def costs_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return render(request, "dashboards_settings.html", {
        "costs": costs_of(session, user.workspace_id), "error": None,
        "notice": request.query_params.get("notice")})


@router.post(COSTS_PAGE)
def save_costs(request: Request, form: PostedForm, user: Admin, session: WriteSession) -> Response:
    raw = form_value(form, "hourly_cost")[:30]
    currency = form_value(form, "currency")[:10]
    try:
        try:
            cost = float(raw.replace(",", ".")) if raw else None
        except ValueError:
            raise ValidationFailed("hourly_cost: a number, e.g. 32.50", code="invalid_costs",
                                   details={"field": "hourly_cost"}) from None
        if cost is not None and cost != cost:  # NaN
            raise ValidationFailed("hourly_cost: a number", code="invalid_costs",
                                   details={"field": "hourly_cost"})
        set_costs(session, user.workspace_id, parse_costs(
            {"hourly_cost": cost, "currency": currency or "EUR"}), user.actor)
    except ValidationFailed as exc:
        return render(request, "dashboards_settings.html", {
            "costs": {"hourly_cost": raw, "currency": currency}, "error": exc,
            "notice": None}, status=exc.status)
    return RedirectResponse(f"{COSTS_PAGE}?notice=saved", status_code=303)


# last: its path would take the pages above
@router.get("/dashboards/{group}")
def dashboard_page(group: str, request: Request, user: Supervisor,
                   session: ReadSession) -> Response:
    try:
        chosen = Group(group)
    except ValueError:
        raise NotFound("no such dashboard", code="unknown_dashboard") from None
    context: dict[str, Any] = {"group": chosen, "groups": TITLES, **_choices(session, user),
                               "raw": _raw(request)}
    try:
        filters = parse_filters(session, user.workspace_id, request.query_params)
    except ValidationFailed as exc:
        return render(request, "dashboards.html", {**context, "error": exc, "board": None},
                      status=exc.status)
    board = dashboard(session, chosen, filters)
    return render(request, "dashboards.html", {
        **context, "board": board, "filters": filters, "query": filters.query(),
        "raw": filters.query(), "error": None,
        "charts": [c.model_dump(mode="json") for c in board.charts]})
