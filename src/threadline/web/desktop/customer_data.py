"""The customer data panel and its settings.

The panel (`GET /customers/{id}/data`, any agent) is loaded by htmx after the customer page
or the conversation view has rendered (`partials/customer_data.html`), so a slow or failing
endpoint never holds the desktop: it shows the brand's answer (orders, subscriptions, balance,
tickets), "no record", or the failure as such. It takes no database session of its own: the
lookup opens short ones around the call (integrations/lookup/service.py).

Settings (`/settings/customer-data`, admins): the endpoint's URL (checked like provider URLs),
timeout, cache and on/off; the signing secret is shown once, when created or rotated."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from threadline.adapters.config import url_policy
from threadline.errors import ValidationFailed
from threadline.integrations.lookup import service
from threadline.integrations.lookup.schemas import LookupConfigIn
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
PAGE = "/settings/customer-data"
NUMBERS = ("timeout_seconds", "cache_seconds")


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@router.get("/customers/{customer_id}/data")
def panel(customer_id: uuid.UUID, request: Request, user: Anyone,
          runtime: RuntimeDep) -> Response:
    conversation_id = _uuid(request.query_params.get("conversation_id"))
    result = service.customer_data(runtime, url_policy(runtime.settings), user.workspace_id,
                                   customer_id, conversation_id=conversation_id,
                                   refresh=request.query_params.get("refresh") == "1")
    return render(request, "partials/customer_data_panel.html", {
        "customer_id": customer_id, "conversation_id": conversation_id,
        "result": result, "lookup": service.as_out(result)})


def _page(request: Request, session: Any, user: DeskUser, *,
          draft: dict[str, Any] | None = None, error: ValidationFailed | None = None,
          secret: str | None = None, status: int = 200) -> Response:
    endpoint = service.get_endpoint(session, user.workspace_id)
    if draft is None:
        draft = ({"url": endpoint.url, "enabled": endpoint.enabled,
                  "timeout_seconds": endpoint.timeout_seconds,
                  "cache_seconds": endpoint.cache_seconds} if endpoint is not None
                 else LookupConfigIn.model_construct(url="").model_dump())
    return render(request, "customer_data_settings.html", {
        "endpoint": endpoint, "draft": draft, "error": error, "secret": secret,
        "notice": request.query_params.get("notice")}, status=status)


@router.get(PAGE)
def settings_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _page(request, session, user)


def _number(text: str) -> int | str:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else text


@router.post(PAGE)
def save_settings(request: Request, form: PostedForm, user: Admin, session: WriteSession,
                  runtime: RuntimeDep) -> Response:
    draft: dict[str, Any] = {
        "url": form_value(form, "url")[:2100],
        "enabled": form_value(form, "enabled") == "on",
        **{name: form_value(form, name)[:12] for name in NUMBERS}}
    try:
        value = LookupConfigIn.model_validate(
            {**draft, **{name: _number(draft[name]) for name in NUMBERS}})
        _, secret = service.save_endpoint(session, user.workspace_id, value,
                                          url_policy(runtime.settings), user.actor)
    except (ValidationError, ValidationFailed) as exc:
        error = exc if isinstance(exc, ValidationFailed) else _invalid(exc)
        session.rollback()
        return _page(request, session, user, draft=draft, status=422, error=error)
    if secret is not None:  # created: the secret is shown on this answer, once
        return _page(request, session, user, secret=secret)
    return RedirectResponse(f"{PAGE}?notice=settings-saved", status_code=303)


def _invalid(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "settings"
    return ValidationFailed(f"{field}: {first.get('msg', 'invalid')}", code="invalid_settings",
                            details={"field": field})


@router.post(f"{PAGE}/secret")
def new_secret(request: Request, user: Admin, session: WriteSession) -> Response:
    _, secret = service.rotate_secret(session, user.workspace_id, user.actor)
    return _page(request, session, user, secret=secret)


@router.post(f"{PAGE}/delete")
def delete(user: Admin, session: WriteSession) -> Response:
    service.delete_endpoint(session, user.workspace_id, user.actor)
    return RedirectResponse(f"{PAGE}?notice=endpoint-removed", status_code=303)
