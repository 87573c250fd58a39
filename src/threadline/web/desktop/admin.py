"""Supervisor views (queues, load, SLA) and admin settings (channel accounts, teams,
templates, agents)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from threadline.adapters.config import config_check
from threadline.analytics.queues import nearest_sla, queues
from threadline.channels.registry import kinds
from threadline.contacts.brand import brand_contacts
from threadline.conversations.inbox import counts
from threadline.errors import ValidationFailed
from threadline.jobs.runtime import Runtime
from threadline.outbound.templates import save_template
from threadline.web.deps import PostedForm, get_runtime, runtime_of
from threadline.web.desktop.login import account_policy
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
from threadline.workspace.accounts import require_totp, reset_password, reset_totp
from threadline.workspace.auth import access_agent, list_agents, update_agent
from threadline.workspace.models import Role
from threadline.workspace.templates import (
    access_template,
    delete_template,
    list_templates,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)


@router.get("/supervisor")
def supervisor(request: Request, user: Supervisor,
               session: ReadSession) -> Response:
    return render(request, "supervisor.html", {
        "queues": queues(session, user.workspace_id),
        "sla": nearest_sla(session, user.workspace_id),
        "counts": counts(session, user.workspace_id, user.agent_id)})


def _settings_page(request: Request, session: Session, user: DeskUser, *,
                   new_password: dict[str, str] | None = None, status: int = 200) -> Response:
    workspace = ws_service.access_workspace(session, user.workspace_id)
    return render(request, "settings.html", {
        "accounts": ws_service.list_channel_accounts(session, user.workspace_id),
        "teams": ws_service.list_teams(session, user.workspace_id),
        "templates": list_templates(session, user.workspace_id),
        "agents": list_agents(session, user.workspace_id), "roles": Role.ALL,
        "kinds": kinds(), "notice": request.query_params.get("notice"),
        "require_totp": bool((workspace.settings or {}).get("require_totp")),
        "brand_contacts": brand_contacts(session, user.workspace_id),
        "new_password": new_password}, status=status)


@router.get("/settings")
def settings(request: Request, user: Admin,
             session: ReadSession) -> Response:
    return _settings_page(request, session, user)


def _back(notice: str) -> Response:
    return RedirectResponse(f"/settings?notice={notice}", status_code=303)


@router.post("/settings/accounts")
def add_account(request: Request, form: PostedForm, user: Admin,
                session: WriteSession) -> Response:
    name, kind = form_value(form, "name"), form_value(form, "kind")
    if not name or len(name) > 255:
        raise ValidationFailed("an account needs a name", code="bad_name")
    try:
        config: Any = json.loads(form_value(form, "config") or "{}")
    except json.JSONDecodeError:
        raise ValidationFailed("the configuration must be a JSON object",
                               code="bad_config") from None
    if not isinstance(config, dict):
        raise ValidationFailed("the configuration must be a JSON object", code="bad_config")
    ws_service.create_channel_account(session, user.workspace_id, kind=kind, name=name,
                                      config=config, known_kinds=kinds(),
                                      check_config=config_check(runtime_of(request).settings))
    return _back("account-added")


@router.post("/settings/accounts/{account_id}")
def edit_account(account_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                 session: WriteSession) -> Response:
    """Rename, switch on/off, or change configuration keys (e.g. rotate a credential)."""
    account = ws_service.access_channel_account(session, user.workspace_id, account_id)
    raw = form_value(form, "config")
    try:
        patch: Any = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        raise ValidationFailed("the configuration must be a JSON object",
                               code="bad_config") from None
    if not isinstance(patch, dict):
        raise ValidationFailed("the configuration must be a JSON object", code="bad_config")
    ws_service.update_channel_account(
        session, account, name=form_value(form, "name") or None,
        active=form_value(form, "active") == "on", config_patch=patch,
        actor_type=user.actor.type, actor_id=user.actor.id,
        check_config=config_check(runtime_of(request).settings))
    return _back("account-updated")


@router.post("/settings/teams")
def add_team(request: Request, form: PostedForm, user: Admin,
             session: WriteSession) -> Response:
    name = form_value(form, "name")
    if not name or len(name) > 255:
        raise ValidationFailed("a team needs a name", code="bad_name")
    if any(t.name == name for t in ws_service.list_teams(session, user.workspace_id)):
        raise ValidationFailed("a team with this name exists", code="team_exists")
    ws_service.create_team(session, user.workspace_id, name)
    return _back("team-added")


@router.post("/settings/templates")
def add_template(request: Request, form: PostedForm, user: Admin,
                 session: WriteSession) -> Response:
    channels = [str(v) for v in form.getlist("channels") if str(v) in kinds()]
    visibilities = [str(v) for v in form.getlist("visibilities")]
    save_template(session, user.workspace_id, name=form_value(form, "name"),
                  body=form_value(form, "body"), channels=channels,
                  visibilities=visibilities, approval="approved", created_by=user.agent_id)
    return _back("template-added")


@router.post("/settings/templates/{template_id}/delete")
def remove_template(template_id: uuid.UUID, user: Admin,
                    session: WriteSession) -> Response:
    delete_template(session, access_template(session, user.workspace_id, template_id),
                    actor_id=user.agent_id)
    return _back("template-deleted")


@router.post("/settings/agents")
def add_agent(request: Request, form: PostedForm, user: Admin, session: WriteSession,
              runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    agent, password = ws_service.create_agent(
        session, user.workspace_id, email=form_value(form, "email"),
        role=form_value(form, "role"), name=form_value(form, "name") or None,
        one_time_ttl=account_policy(runtime).one_time_ttl)
    return _settings_page(request, session, user, status=201, new_password={
        "email": agent.email, "password": password, "action": "created"})


@router.post("/settings/agents/{agent_id}/password")
def reset_agent_password(agent_id: uuid.UUID, request: Request, user: Admin,
                         session: WriteSession,
                         runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """A new one-time password for an agent of this workspace (shown once); his sessions
    end and he must choose his own password at his next sign-in."""
    agent, password = reset_password(session, user.workspace_id, agent_id,
                                     policy=account_policy(runtime),
                                     actor_type="agent", actor_id=str(user.agent_id))
    return _settings_page(request, session, user, new_password={
        "email": agent.email, "password": password, "action": "reset"})


@router.post("/settings/agents/{agent_id}/totp")
def reset_agent_totp(agent_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    """Remove another agent's second factor (a lost phone); his sessions end."""
    if agent_id == user.agent_id:
        raise ValidationFailed("turn off your own second factor on your account page",
                               code="self_change")
    reset_totp(session, user.workspace_id, agent_id, actor_type="agent",
               actor_id=str(user.agent_id))
    return _back("second-factor-reset")


@router.post("/settings/security")
def security(request: Request, form: PostedForm, user: Admin, session: WriteSession) -> Response:
    """Require (or not) a second factor of the workspace's admins and supervisors."""
    actor = access_agent(session, user.workspace_id, user.agent_id)
    require_totp(session, user.workspace_id, form_value(form, "require_totp") == "on",
                 actor=actor)
    return _back("security-updated")


@router.post("/settings/agents/{agent_id}")
def change_agent(agent_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                 session: WriteSession) -> Response:
    role = form_value(form, "role") or None
    active_raw = form_value(form, "active")
    team_raw = form_value(form, "team_id")
    if agent_id == user.agent_id and (active_raw == "no" or (role and role != Role.ADMIN)):
        raise ValidationFailed("you cannot demote or deactivate yourself", code="self_change")
    try:
        team_id = uuid.UUID(team_raw) if team_raw else None
    except ValueError:
        raise ValidationFailed("choose a valid team", code="bad_id") from None
    update_agent(session, user.workspace_id, agent_id, role=role,
                 active={"yes": True, "no": False}.get(active_raw), team_id=team_id,
                 actor_id=str(user.agent_id))
    return _back("agent-updated")
