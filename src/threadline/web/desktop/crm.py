"""Settings: CRM sync (admins): connect Salesforce or HubSpot (URL, credentials, the contact
and account fields the customer panel shows, whether unmatched customers become contacts),
change or remove a connection, and push every existing conversation (a backfill whose
progress, done of total, refreshes itself). Forms are checked with the API's models and
service: a bad value re-renders the page naming the field and stores nothing.

The customer panel's CRM card (agents): the linked contact, the fields last pulled, the sync
log, and a button that matches and pulls again (a job)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from threadline.adapters.config import url_policy
from threadline.errors import Conflict, ThreadlineError, ValidationFailed, invalid_input
from threadline.integrations.crm import service
from threadline.integrations.crm.schemas import ConnectionIn, ConnectionPatch
from threadline.web.deps import PostedForm, RuntimeDep
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Admin,
    Anyone,
    DesktopRoute,
    DeskUser,
    ReadSession,
    WriteSession,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
PAGE = "/settings/crm"
MAX_FIELD = 4096
SECRETS = ("token", "client_id", "client_secret", "refresh_token")


def _fields(text: str) -> list[str]:
    return [w for w in re.split(r"[,\s]+", text[:2000]) if w][:40]


def _page(request: Request, session: Any, user: DeskUser, *,
          draft: dict[str, Any] | None = None, error: ThreadlineError | None = None,
          status: int = 200) -> Response:
    return render(request, "crm_settings.html", {
        "connections": service.list_connections(session, user.workspace_id),
        "draft": draft or {"kind": "hubspot"}, "error": error,
        "notice": request.query_params.get("notice")}, status=status)


@router.get(PAGE)
def settings_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _page(request, session, user)


def _form_credentials(form: Any) -> dict[str, str]:
    return {k: form_value(form, k)[:MAX_FIELD] for k in SECRETS if form_value(form, k)}


@router.post(PAGE)
def add_connection(request: Request, form: PostedForm, user: Admin, session: WriteSession,
                   runtime: RuntimeDep) -> Response:
    draft: dict[str, Any] = {
        "kind": form_value(form, "kind")[:20], "name": form_value(form, "name")[:200],
        "base_url": form_value(form, "base_url")[:MAX_FIELD] or None,
        "contact_fields": _fields(form_value(form, "contact_fields")),
        "account_fields": _fields(form_value(form, "account_fields")),
        "create_contacts": form_value(form, "create_contacts") == "on"}
    try:
        body = ConnectionIn.model_validate({**draft, "credentials": _form_credentials(form)})
        service.create_connection(session, user.workspace_id, body,
                                  url_policy(runtime.settings), user.actor)
    except ValidationError as exc:
        return _page(request, session, user, draft=draft, status=422,
                     error=invalid_input(exc, "invalid_connection"))
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        return _page(request, session, user, draft=draft, status=exc.status, error=exc)
    return RedirectResponse(f"{PAGE}?notice=connection-added", status_code=303)


@router.post(PAGE + "/{connection_id}")
def edit_connection(connection_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                    session: WriteSession, runtime: RuntimeDep) -> Response:
    conn = service.access_connection(session, user.workspace_id, connection_id)
    changes: dict[str, Any] = {
        "contact_fields": _fields(form_value(form, "contact_fields")),
        "account_fields": _fields(form_value(form, "account_fields")),
        "create_contacts": form_value(form, "create_contacts") == "on",
        "enabled": form_value(form, "enabled") == "on"}
    credentials = _form_credentials(form)
    if credentials:
        changes["credentials"] = credentials
    try:
        service.update_connection(session, conn, ConnectionPatch.model_validate(changes),
                                  url_policy(runtime.settings), user.actor)
    except ValidationError as exc:
        session.rollback()
        return _page(request, session, user, status=422,
                     error=invalid_input(exc, "invalid_connection"))
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, session, user, status=422, error=exc)
    return RedirectResponse(f"{PAGE}?notice=connection-saved", status_code=303)


@router.post(PAGE + "/{connection_id}/delete")
def remove_connection(connection_id: uuid.UUID, user: Admin,
                      session: WriteSession) -> Response:
    conn = service.access_connection(session, user.workspace_id, connection_id)
    service.delete_connection(session, conn, user.actor)
    return RedirectResponse(f"{PAGE}?notice=connection-removed", status_code=303)


@router.post(PAGE + "/{connection_id}/backfill")
def backfill(connection_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    conn = service.access_connection(session, user.workspace_id, connection_id)
    service.start_backfill(session, conn, user.actor)
    return RedirectResponse(f"{PAGE}?notice=backfill-started", status_code=303)


@router.get(PAGE + "/{connection_id}/progress")
def progress(connection_id: uuid.UUID, request: Request, user: Admin,
             session: ReadSession) -> Response:
    conn = service.access_connection(session, user.workspace_id, connection_id)
    return render(request, "partials/crm_progress.html", {"c": conn})


# --- the customer panel's card -------------------------------------------------------------


def _card(request: Request, session: Any, user: DeskUser, customer_id: uuid.UUID, *,
          queued: bool = False) -> Response:
    crm = service.customer_crm(session, user.workspace_id, customer_id)
    return render(request, "partials/crm_card.html", {
        "crm": crm, "customer_id": customer_id, "queued": queued})


@router.get("/customers/{customer_id}/crm-panel")
def crm_card(customer_id: uuid.UUID, request: Request, user: Anyone,
             session: ReadSession) -> Response:
    return _card(request, session, user, customer_id)


@router.post("/customers/{customer_id}/crm-panel/refresh")
def refresh(customer_id: uuid.UUID, request: Request, user: Anyone,
            session: WriteSession) -> Response:
    service.request_refresh(session, user.workspace_id, customer_id)
    return _card(request, session, user, customer_id, queued=True)
