"""Settings: business hours (calendars) and service-level policies (admins), and the
supervisors' live "breaches and warnings" panel. Forms are checked on the server with the
same models as the API: a bad calendar or policy re-renders the page naming the field, with
what was typed, and stores nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from threadline.errors import NotFound, ValidationFailed
from threadline.sla import service
from threadline.sla.calendar import WEEKDAYS
from threadline.sla.schemas import ESCALATIONS
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Admin,
    DesktopRoute,
    DeskUser,
    ReadSession,
    Supervisor,
    WriteSession,
    form_value,
)
from threadline.workspace import service as ws_service

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
HOURS_PAGE = "/settings/business-hours"
POLICIES_PAGE = "/settings/service-levels"
DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                "Saturday", "Sunday"), strict=True))
MAX_FIELD = 2000
ThreadlineErrorLike = ValidationFailed | NotFound | None
_SPAN = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def _text(form: Any, name: str) -> str:
    value = form_value(form, name)
    if len(value) > MAX_FIELD:
        raise ValidationFailed(f"{name}: at most {MAX_FIELD} characters", code="invalid_input",
                               details={"field": name})
    return value


def _list(form: Any, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()][:60]


def _words(text: str) -> list[str]:
    return [w.strip() for w in re.split(r"[,\s]+", text) if w.strip()]


# --- business hours ------------------------------------------------------------------------


def _hours_from(form: Any) -> tuple[dict[str, list[list[str]]], dict[str, str]]:
    """Hours per day as typed ("09:00-13:00, 14:00-18:00"): the intervals, and the raw text
    to show again."""
    hours: dict[str, list[list[str]]] = {}
    raw: dict[str, str] = {}
    for day in WEEKDAYS:
        text = _text(form, f"hours_{day}")
        raw[day] = text
        spans = []
        for index, part in enumerate(p for p in text.split(",") if p.strip()):
            match = _SPAN.match(part)
            if not match:
                raise ValidationFailed(f"hours.{day}.{index}: write an interval as 09:00-17:00",
                                       code="invalid_calendar",
                                       details={"field": f"hours.{day}.{index}"})
            start, end = match.groups()
            spans.append([start.zfill(5), end.zfill(5)])
        if spans:
            hours[day] = spans
    return hours, raw


def _hours_page(request: Request, session: Any, user: DeskUser, *,
                draft: dict[str, Any] | None = None, error: ThreadlineErrorLike = None,
                status: int = 200) -> Response:
    calendars = service.list_calendars(session, user.workspace_id)
    teams = ws_service.list_teams(session, user.workspace_id)
    by_calendar = service.teams_of(session, user.workspace_id)
    edit = request.query_params.get("edit")
    editing = next((c for c in calendars if str(c.id) == edit), None)
    if draft is None and editing is not None:
        draft = {"id": str(editing.id), "name": editing.name, "time_zone": editing.time_zone,
                 "hours": {d: ", ".join(f"{s}-{e}" for s, e in editing.hours.get(d, []))
                           for d in WEEKDAYS},
                 "holidays": "\n".join(editing.holidays), "is_default": editing.is_default,
                 "team_ids": [str(t) for t in by_calendar.get(editing.id, [])]}
    return render(request, "sla_hours.html", {
        "calendars": calendars, "teams": teams, "team_names": {t.id: t.name for t in teams},
        "by_calendar": by_calendar, "days": DAY_NAMES, "error": error,
        "notice": request.query_params.get("notice"),
        "draft": draft or {"time_zone": "Europe/Madrid", "hours": {
            d: ("09:00-13:00, 14:00-18:00" if d not in ("sat", "sun") else "")
            for d in WEEKDAYS}, "holidays": "", "team_ids": []}}, status=status)


@router.get(HOURS_PAGE)
def hours_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _hours_page(request, session, user)


def _save_calendar(request: Request, form: FormData, user: Admin, session: WriteSession,
                   calendar_id: uuid.UUID | None) -> Response:
    raw_hours: dict[str, str] = {d: form_value(form, f"hours_{d}")[:MAX_FIELD]
                                 for d in WEEKDAYS}
    draft: dict[str, Any] = {
        "id": str(calendar_id) if calendar_id else None, "name": form_value(form, "name"),
        "time_zone": form_value(form, "time_zone"), "hours": raw_hours,
        "holidays": form_value(form, "holidays")[:MAX_FIELD],
        "is_default": form_value(form, "is_default") == "on",
        "team_ids": _list(form, "team_ids")}
    try:
        hours, _raw = _hours_from(form)
        data = service.parse_calendar({
            "name": _text(form, "name"), "time_zone": _text(form, "time_zone"), "hours": hours,
            "holidays": _words(_text(form, "holidays")), "team_ids": _list(form, "team_ids"),
            "is_default": draft["is_default"]})
        service.save_calendar(session, user.workspace_id, data, user.actor, calendar_id)
    except (ValidationFailed, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.code == "calendar_not_found":
            raise
        return _hours_page(request, session, user, draft=draft, error=exc, status=exc.status)
    return RedirectResponse(f"{HOURS_PAGE}?notice=calendar-saved", status_code=303)


@router.post(HOURS_PAGE)
def create_calendar(request: Request, form: PostedForm, user: Admin,
                    session: WriteSession) -> Response:
    return _save_calendar(request, form, user, session, None)


@router.post(HOURS_PAGE + "/{calendar_id}")
def update_calendar(calendar_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                    session: WriteSession) -> Response:
    return _save_calendar(request, form, user, session, calendar_id)


@router.post(HOURS_PAGE + "/{calendar_id}/delete")
def delete_calendar(calendar_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    service.delete_calendar(session, user.workspace_id, calendar_id, user.actor)
    return RedirectResponse(f"{HOURS_PAGE}?notice=calendar-deleted", status_code=303)


# --- policies ---------------------------------------------------------------------------------


def _policies_page(request: Request, session: Any, user: DeskUser, *,
                   draft: dict[str, Any] | None = None, error: ThreadlineErrorLike = None,
                   status: int = 200) -> Response:
    policies = service.list_policies(session, user.workspace_id)
    teams = ws_service.list_teams(session, user.workspace_id)
    edit = request.query_params.get("edit")
    editing = next((p for p in policies if str(p.id) == edit), None)
    if draft is None and editing is not None:
        draft = {"id": str(editing.id), "name": editing.name, "active": editing.active,
                 "priorities": [str(p) for p in editing.priorities],
                 "channels": ", ".join(editing.channels),
                 "visibilities": list(editing.visibilities),
                 "categories": ", ".join(editing.categories),
                 "team_ids": [str(t) for t in editing.team_ids],
                 "first_response_minutes": editing.first_response_minutes or "",
                 "next_response_minutes": editing.next_response_minutes or "",
                 "resolution_minutes": editing.resolution_minutes or "",
                 "warn_percent": editing.warn_percent or "",
                 "warn_minutes": editing.warn_minutes or "",
                 "escalation": list(editing.escalation)}
    return render(request, "sla_policies.html", {
        "policies": policies, "teams": teams,
        "team_names": {str(t.id): t.name for t in teams}, "escalations": ESCALATIONS,
        "error": error, "notice": request.query_params.get("notice"),
        "draft": draft or {"active": True, "priorities": [], "visibilities": [],
                           "team_ids": [], "escalation": ["notify"]}}, status=status)


@router.get(POLICIES_PAGE)
def policies_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _policies_page(request, session, user)


def _number(form: Any, name: str) -> str | None:
    value = _text(form, name)
    return value or None


def _save_policy(request: Request, form: FormData, user: Admin, session: WriteSession,
                 policy_id: uuid.UUID | None) -> Response:
    fields = ("first_response_minutes", "next_response_minutes", "resolution_minutes",
              "warn_percent", "warn_minutes")
    draft: dict[str, Any] = {
        "id": str(policy_id) if policy_id else None, "name": form_value(form, "name"),
        "active": form_value(form, "active") == "on",
        "priorities": _list(form, "priorities"),
        "channels": form_value(form, "channels")[:MAX_FIELD],
        "visibilities": _list(form, "visibilities"),
        "categories": form_value(form, "categories")[:MAX_FIELD],
        "team_ids": _list(form, "team_ids"), "escalation": _list(form, "escalation"),
        **{f: form_value(form, f)[:20] for f in fields}}
    try:
        data = service.parse_policy({
            "name": _text(form, "name"), "active": draft["active"],
            "priorities": draft["priorities"], "channels": _words(_text(form, "channels")),
            "visibilities": draft["visibilities"],
            "categories": _words(_text(form, "categories")), "team_ids": draft["team_ids"],
            "escalation": draft["escalation"], **{f: _number(form, f) for f in fields}})
        service.save_policy(session, user.workspace_id, data, user.actor, policy_id)
    except (ValidationFailed, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.code == "policy_not_found":
            raise
        return _policies_page(request, session, user, draft=draft, error=exc,
                              status=exc.status)
    return RedirectResponse(f"{POLICIES_PAGE}?notice=policy-saved", status_code=303)


@router.post(POLICIES_PAGE)
def create_policy(request: Request, form: PostedForm, user: Admin,
                  session: WriteSession) -> Response:
    return _save_policy(request, form, user, session, None)


@router.post(POLICIES_PAGE + "/{policy_id}")
def update_policy(policy_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                  session: WriteSession) -> Response:
    return _save_policy(request, form, user, session, policy_id)


@router.post(POLICIES_PAGE + "/{policy_id}/delete")
def delete_policy(policy_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    service.delete_policy(session, user.workspace_id, policy_id, user.actor)
    return RedirectResponse(f"{POLICIES_PAGE}?notice=policy-deleted", status_code=303)


@router.post(POLICIES_PAGE + "/{policy_id}/move")
def move_policy(policy_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                session: WriteSession) -> Response:
    step = -1 if form_value(form, "direction") == "up" else 1
    service.move_policy(session, user.workspace_id, policy_id, step, user.actor)
    return RedirectResponse(f"{POLICIES_PAGE}?notice=policy-moved", status_code=303)


# --- the supervisors' panel -------------------------------------------------------------------


def panel_context(session: Any, workspace_id: uuid.UUID) -> dict[str, Any]:
    """What `partials/sla_panel.html` shows (the supervisor page includes it)."""
    return {"sla_panel": service.panel(session, workspace_id)}


@router.get("/supervisor/sla-panel")
def sla_panel(request: Request, user: Supervisor, session: ReadSession) -> Response:
    return render(request, "partials/sla_panel.html", panel_context(session, user.workspace_id))
