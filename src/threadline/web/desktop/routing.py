"""Routing on the desktop: the presence selector in the rail and its heartbeat (every signed-in
agent), the settings pages for teams (members, skills, capacity) and routing rules (admins),
and the supervisor's live board of team queues and agents' presence and load. Bad input
re-renders the page naming the field and stores nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from threadline.errors import Conflict, NotFound, ValidationFailed
from threadline.routing import admin as service
from threadline.routing.presence import heartbeat, set_presence
from threadline.routing.schemas import PRESENCES
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Admin,
    Anyone,
    DesktopRoute,
    DeskUser,
    ReadSession,
    Supervisor,
    WriteSession,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
TEAMS = "/settings/teams"
RULES = "/settings/routing"
RULE_FIELDS = ("name", "team_id", "enabled", "conditions", "required_skills")
FormError = ValidationFailed | NotFound | Conflict


# --- presence ---------------------------------------------------------------------------------


def _presence(request: Request, presence: str) -> Response:
    return render(request, "partials/presence.html", {"presence": presence,
                                                      "presences": PRESENCES})


@router.get("/presence")
def presence_widget(request: Request, user: Anyone, session: ReadSession) -> Response:
    agent = service.access_agent(session, user.workspace_id, user.agent_id)
    return _presence(request, agent.presence)


@router.post("/presence")
def presence_set(request: Request, form: PostedForm, user: Anyone,
                 session: WriteSession) -> Response:
    presence = form_value(form, "presence")
    if presence not in PRESENCES:
        raise ValidationFailed("presence: online, away or offline", code="invalid_presence",
                               details={"field": "presence"})
    agent = service.access_agent(session, user.workspace_id, user.agent_id)
    set_presence(session, agent, presence, user.actor)
    return _presence(request, presence)


@router.post("/presence/heartbeat")
def presence_heartbeat(user: Anyone, session: WriteSession) -> Response:
    """The desktop is open (static/desktop/presence.js, every minute)."""
    heartbeat(session, service.access_agent(session, user.workspace_id, user.agent_id))
    return Response(status_code=204)


# --- the supervisor's board -----------------------------------------------------------------


@router.get("/supervisor/routing")
def supervisor_board(request: Request, user: Supervisor, session: ReadSession) -> Response:
    return render(request, "partials/routing_board.html",
                  {"board": service.board(session, user.workspace_id)})


# --- teams, members, skills, capacity ---------------------------------------------------------


def _teams_page(request: Request, session: Any, user: DeskUser, *,
                draft: dict[str, Any] | None = None, error: FormError | None = None,
                status: int = 200) -> Response:
    view = service.teams_view(session, user.workspace_id)
    edit = request.query_params.get("edit")
    editing = next((t for t in view.teams if str(t.id) == edit), None)
    if draft is None and editing is not None:
        draft = {"id": str(editing.id), "name": editing.name,
                 "skills": " ".join(editing.skills),
                 "language_required": editing.language_required,
                 "members": [str(m.agent_id) for m in editing.members]}
    names = {str(a.agent_id): a.name for a in view.agents}
    return render(request, "routing_teams.html", {
        "view": view, "names": names, "draft": draft or {"members": []}, "error": error,
        "notice": request.query_params.get("notice")}, status=status)


@router.get(TEAMS)
def teams_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _teams_page(request, session, user)


def _save_team(request: Request, form: FormData, user: Admin, session: Any,
               team_id: uuid.UUID | None) -> Response:
    fields = {name: form_value(form, name) for name in ("name", "skills", "language_required")}
    members = [str(v) for v in form.getlist("members")]
    try:
        service.save_team_form(session, user.workspace_id, fields, members, user.actor, team_id)
    except (ValidationFailed, NotFound, Conflict) as exc:
        if isinstance(exc, NotFound) and exc.code == "team_not_found" and team_id is not None:
            raise
        session.rollback()
        draft = {**fields, "language_required": fields["language_required"] == "on",
                 "members": members, "id": str(team_id) if team_id else None}
        return _teams_page(request, session, user, draft=draft, error=exc, status=exc.status)
    return RedirectResponse(f"{TEAMS}?notice=team-saved", status_code=303)


@router.post(TEAMS + "/new")  # POST /settings/teams is the settings page's quick add
def create_team(request: Request, form: PostedForm, user: Admin, session: WriteSession) -> Response:
    return _save_team(request, form, user, session, None)


@router.post(TEAMS + "/{team_id}")
def update_team(team_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                session: WriteSession) -> Response:
    return _save_team(request, form, user, session, team_id)


@router.post(TEAMS + "/{team_id}/delete")
def delete_team(team_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    service.delete_team(session, user.workspace_id, team_id, user.actor)
    return RedirectResponse(f"{TEAMS}?notice=team-deleted", status_code=303)


@router.post(TEAMS + "/agents/{agent_id}")
def update_profile(agent_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                   session: WriteSession) -> Response:
    fields = {name: form_value(form, name)
              for name in ("skills", "capacity_realtime", "capacity_delayed")}
    try:
        service.save_profile_form(session, user.workspace_id, agent_id, fields, user.actor)
    except ValidationFailed as exc:
        session.rollback()
        return _teams_page(request, session, user, error=exc, status=exc.status)
    return RedirectResponse(f"{TEAMS}?notice=agent-saved#agents", status_code=303)


# --- routing rules ----------------------------------------------------------------------------


def _rules_page(request: Request, session: Any, user: DeskUser, *,
                draft: dict[str, Any] | None = None, error: FormError | None = None,
                status: int = 200) -> Response:
    rules = service.list_rules(session, user.workspace_id)
    teams = service.list_teams(session, user.workspace_id)
    edit = request.query_params.get("edit")
    editing = next((r for r in rules if str(r.id) == edit), None)
    if draft is None and editing is not None:
        draft = {"id": str(editing.id), "name": editing.name, "team_id": str(editing.team_id),
                 "enabled": editing.enabled,
                 "conditions": json.dumps(editing.conditions, indent=1, ensure_ascii=False),
                 "required_skills": " ".join(editing.required_skills)}
    return render(request, "routing_rules.html", {
        "rules": rules, "teams": teams, "team_names": {t.id: t.name for t in teams},
        "draft": draft or {"enabled": True, "conditions": "[]"}, "error": error,
        "notice": request.query_params.get("notice")}, status=status)


@router.get(RULES)
def rules_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _rules_page(request, session, user)


def _save_rule(request: Request, form: FormData, user: Admin, session: Any,
               rule_id: uuid.UUID | None) -> Response:
    fields = {name: form_value(form, name) for name in RULE_FIELDS}
    try:
        service.save_rule_form(session, user.workspace_id, fields, user.actor, rule_id)
    except (ValidationFailed, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.code == "rule_not_found":
            raise
        draft = {**fields, "enabled": fields["enabled"] == "on",
                 "id": str(rule_id) if rule_id else None}
        return _rules_page(request, session, user, draft=draft, error=exc, status=exc.status)
    return RedirectResponse(f"{RULES}?notice=rule-saved", status_code=303)


@router.post(RULES)
def create_rule(request: Request, form: PostedForm, user: Admin, session: WriteSession) -> Response:
    return _save_rule(request, form, user, session, None)


@router.post(RULES + "/{rule_id}")
def update_rule(rule_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                session: WriteSession) -> Response:
    return _save_rule(request, form, user, session, rule_id)


@router.post(RULES + "/{rule_id}/delete")
def delete_rule(rule_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    service.delete_rule(session, user.workspace_id, rule_id, user.actor)
    return RedirectResponse(f"{RULES}?notice=rule-deleted", status_code=303)


@router.post(RULES + "/{rule_id}/move")
def move_rule(rule_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
              session: WriteSession) -> Response:
    step = -1 if form_value(form, "direction") == "up" else 1
    service.move(session, user.workspace_id, rule_id, step, user.actor)
    return RedirectResponse(f"{RULES}?notice=rule-moved", status_code=303)
