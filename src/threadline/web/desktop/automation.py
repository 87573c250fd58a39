"""Settings: automation rules (admins). A rule is written with a name, a trigger, and its
conditions and actions as JSON, validated on the server: a bad rule re-renders the page with
the field named and what was typed, and stores nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from threadline.automation import service
from threadline.automation.schemas import ACTION_TYPES, TRIGGERS
from threadline.errors import NotFound, ValidationFailed
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Admin,
    DesktopRoute,
    ReadSession,
    WriteSession,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
PAGE = "/settings/automation"
FIELDS = ("name", "trigger", "active", "conditions", "actions")


def _page(request: Request, view: service.SettingsView, *, draft: dict[str, Any] | None = None,
          error: ValidationFailed | NotFound | None = None, status: int = 200) -> Response:
    edit = request.query_params.get("edit")
    editing = next((r for r in view.rules if str(r.id) == edit), None)
    if draft is None and editing is not None:
        draft = {"id": str(editing.id), "name": editing.name, "trigger": editing.trigger,
                 "active": editing.active,
                 "conditions": json.dumps(editing.conditions, indent=1, ensure_ascii=False),
                 "actions": json.dumps(editing.actions, indent=1, ensure_ascii=False)}
    return render(request, "automation.html", {
        "view": view, "triggers": TRIGGERS, "action_types": ACTION_TYPES,
        "draft": draft or {"active": True, "conditions": "[]", "actions": "[]"},
        "error": error, "notice": request.query_params.get("notice")}, status=status)


@router.get(PAGE)
def automation_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _page(request, service.settings_view(session, user.workspace_id))


def _save(request: Request, form: FormData, user: Admin, session: WriteSession,
          rule_id: uuid.UUID | None) -> Response:
    fields = {name: form_value(form, name) for name in FIELDS}
    try:
        service.save_rule_form(session, user.workspace_id, fields, user.actor, rule_id)
    except (ValidationFailed, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.code == "rule_not_found":
            raise
        # nothing was written: the rule is checked whole before it is stored
        draft: dict[str, Any] = {**fields, "active": fields["active"] == "on",
                                 "id": str(rule_id) if rule_id else None}
        return _page(request, service.settings_view(session, user.workspace_id),
                     draft=draft, error=exc, status=exc.status)
    return RedirectResponse(f"{PAGE}?notice=rule-saved", status_code=303)


@router.post(PAGE)
def create_rule(request: Request, form: PostedForm, user: Admin, session: WriteSession) -> Response:
    return _save(request, form, user, session, None)


@router.post(PAGE + "/{rule_id}")
def update_rule(rule_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                session: WriteSession) -> Response:
    return _save(request, form, user, session, rule_id)


@router.post(PAGE + "/{rule_id}/active")
def set_active(rule_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
               session: WriteSession) -> Response:
    active = form_value(form, "active") == "on"
    service.set_active(session, user.workspace_id, rule_id, active, user.actor)
    return RedirectResponse(f"{PAGE}?notice={'rule-enabled' if active else 'rule-disabled'}",
                            status_code=303)


@router.post(PAGE + "/{rule_id}/delete")
def delete_rule(rule_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    service.delete_rule(session, user.workspace_id, rule_id, user.actor)
    return RedirectResponse(f"{PAGE}?notice=rule-deleted", status_code=303)


@router.post(PAGE + "/{rule_id}/move")
def move_rule(rule_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
              session: WriteSession) -> Response:
    step = -1 if form_value(form, "direction") == "up" else 1
    service.move(session, user.workspace_id, rule_id, step, user.actor)
    return RedirectResponse(f"{PAGE}?notice=rule-moved", status_code=303)
