"""Incidents on the desktop: the card in the inbox and on the supervisor view (`/incidents/
cards`, reloaded live on `incident.updated`), the incidents page, and one incident's page with
its live count, sample posts, sending progress and timeline, where a supervisor confirms or
dismisses a suggested burst, writes and approves the one answer, and closes with a follow-up.
A supervisor declares an incident by hand from the conversation ids he picked."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from threadline.errors import ValidationFailed
from threadline.incidents import service
from threadline.incidents.models import IncidentStatus
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Anyone,
    DesktopRoute,
    DeskUser,
    ReadSession,
    Supervisor,
    WriteSession,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
MAX_IDS_TEXT = 20_000


def _text(form: Any, name: str, limit: int) -> str:
    value = form_value(form, name)
    if len(value) > limit:
        raise ValidationFailed(f"at most {limit} characters", code="text_too_long",
                               details={"field": name})
    return value


@router.get("/incidents/cards")
def incident_cards(request: Request, user: Anyone, session: ReadSession) -> Response:
    return render(request, "partials/incident_cards.html",
                  {"incidents": service.live_cards(session, user.workspace_id)})


@router.get("/incidents")
def incidents_page(request: Request, user: Anyone, session: ReadSession) -> Response:
    return render(request, "incidents.html", {
        "incidents": service.list_incidents(session, user.workspace_id, limit=100),
        "notice": request.query_params.get("notice")})


def _panel_context(session: Any, user: DeskUser, incident_id: uuid.UUID) -> dict[str, Any]:
    view = service.incident_view(session, user.workspace_id, incident_id)
    return {"view": view, "incident": view.incident, "live": IncidentStatus.LIVE}


@router.get("/incidents/{incident_id}")
def incident_page(incident_id: uuid.UUID, request: Request, user: Anyone,
                  session: ReadSession) -> Response:
    return render(request, "incident.html", {**_panel_context(session, user, incident_id),
                                             "notice": request.query_params.get("notice")})


@router.get("/incidents/{incident_id}/panel")
def incident_panel(incident_id: uuid.UUID, request: Request, user: Anyone,
                   session: ReadSession) -> Response:
    return render(request, "partials/incident_panel.html",
                  _panel_context(session, user, incident_id))


def _back(incident_id: uuid.UUID, notice: str) -> Response:
    return RedirectResponse(f"/incidents/{incident_id}?notice={notice}", status_code=303)


@router.post("/incidents/declare")
def declare(request: Request, form: PostedForm, user: Supervisor,
            session: WriteSession) -> Response:
    title = _text(form, "title", service.MAX_TITLE)
    raw = _text(form, "conversation_ids", MAX_IDS_TEXT)
    try:
        ids = [uuid.UUID(part) for part in raw.replace(",", " ").split()]
    except ValueError:
        raise ValidationFailed("conversation ids are UUIDs, one a line",
                               code="bad_conversations",
                               details={"field": "conversation_ids"}) from None
    incident = service.declare(session, user.workspace_id, user.actor, user.role, title=title,
                               conversation_ids=ids)
    return _back(incident.id, "declared")


@router.post("/incidents/{incident_id}/confirm")
def confirm(incident_id: uuid.UUID, form: PostedForm, user: Supervisor,
            session: WriteSession) -> Response:
    service.confirm(session, user.workspace_id, incident_id, user.actor, user.role)
    return _back(incident_id, "declared")


@router.post("/incidents/{incident_id}/dismiss")
def dismiss(incident_id: uuid.UUID, form: PostedForm, user: Supervisor,
            session: WriteSession) -> Response:
    service.dismiss(session, user.workspace_id, incident_id, user.actor, user.role)
    return _back(incident_id, "dismissed")


@router.post("/incidents/{incident_id}/answer")
def write_answer(incident_id: uuid.UUID, form: PostedForm, user: Supervisor,
                 session: WriteSession) -> Response:
    service.write_answer(session, user.workspace_id, incident_id, user.actor, user.role,
                         _text(form, "text", service.MAX_TEXT))
    return _back(incident_id, "answer-written")


@router.post("/incidents/{incident_id}/approve")
def approve(incident_id: uuid.UUID, form: PostedForm, user: Supervisor,
            session: WriteSession) -> Response:
    service.approve_answer(session, user.workspace_id, incident_id, user.actor, user.role)
    return _back(incident_id, "answer-approved")


@router.post("/incidents/{incident_id}/close")
def close(incident_id: uuid.UUID, form: PostedForm, user: Supervisor,
          session: WriteSession) -> Response:
    service.close(session, user.workspace_id, incident_id, user.actor, user.role,
                  _text(form, "text", service.MAX_TEXT))
    return _back(incident_id, "closed")
