"""Settings: outbound webhooks (admins). The workspace's subscriptions (add, change, turn on
or off, rotate the secret, remove), the signing secret shown once after it is issued, a
notice for a subscription that was disabled after failing, and the delivery log with
response codes and a Redeliver button. Forms are checked with the API's models and the same
URL rule: a bad one re-renders the page naming the field, with what was typed, and stores
nothing."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from threadline.adapters.config import url_policy
from threadline.errors import NotFound, ValidationFailed
from threadline.integrations.webhooks import service
from threadline.integrations.webhooks.rules import EVENT_TYPES
from threadline.integrations.webhooks.schemas import SubscriptionIn, SubscriptionUpdate
from threadline.web.deps import PostedForm, runtime_of
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Admin,
    DesktopRoute,
    DeskUser,
    ReadSession,
    WriteSession,
    form_value,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
PAGE = "/settings/webhooks"


def _page(request: Request, session: Any, user: DeskUser, *, draft: dict[str, Any] | None = None,
          error: ValidationFailed | None = None, secret: dict[str, str] | None = None,
          status: int = 200) -> Response:
    subs = [service.subscription_out(s) for s in
            service.list_subscriptions(session, user.workspace_id)]
    log, _ = service.list_deliveries(session, user.workspace_id, limit=50)
    return render(request, "webhooks_settings.html", {
        "subscriptions": subs, "deliveries": log, "event_types": EVENT_TYPES,
        "urls": {s.id: s.url for s in subs},
        "draft": draft or {"url": "", "description": "", "event_types": []},
        "error": error, "secret": secret,
        "notice": request.query_params.get("notice")}, status=status)


@router.get(PAGE)
def settings_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _page(request, session, user)


def _draft(form: Any) -> dict[str, Any]:
    return {"url": form_value(form, "url")[:2100],
            "description": form_value(form, "description")[:300],
            "event_types": [str(v)[:64] for v in form.getlist("event_types")][:30]}


def _invalid(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    field = str(first.get("loc", ("input",))[0])
    return ValidationFailed(f"{field}: {first.get('msg', 'invalid')}", code="invalid_webhook",
                            details={"field": field})


@router.post(PAGE)
def create(request: Request, form: PostedForm, user: Admin, session: WriteSession) -> Response:
    draft = _draft(form)
    try:
        body = SubscriptionIn.model_validate(draft)
        created = service.create_subscription(session, user.workspace_id, body, user.actor,
                                              url_policy(runtime_of(request).settings))
    except ValidationError as exc:
        return _page(request, session, user, draft=draft, error=_invalid(exc), status=422)
    except ValidationFailed as exc:
        return _page(request, session, user, draft=draft, error=exc, status=422)
    session.flush()
    return _page(request, session, user, secret={"id": str(created.id), "url": created.url,
                                                 "secret": created.secret})


def _subscription_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("webhook subscription not found", code="webhook_not_found") from None


@router.post(PAGE + "/{subscription_id}")
def update(subscription_id: str, request: Request, form: PostedForm, user: Admin,
           session: WriteSession) -> Response:
    """The edit form (url, description, event types), or one of its buttons: `action`
    enable, disable or rotate."""
    sub_id = _subscription_id(subscription_id)
    action = form_value(form, "action")
    fields: dict[str, Any] = {}
    if action == "enable":
        fields["enabled"] = True
    elif action == "disable":
        fields["enabled"] = False
    elif action == "rotate":
        fields["rotate_secret"] = True
    else:
        draft = _draft(form)
        fields = {"url": draft["url"], "description": draft["description"],
                  "event_types": draft["event_types"]}
    try:
        body = SubscriptionUpdate.model_validate(fields)
        row, secret = service.update_subscription(
            session, user.workspace_id, sub_id, body, user.actor,
            url_policy(runtime_of(request).settings))
    except ValidationError as exc:
        return _page(request, session, user, error=_invalid(exc), status=422)
    except ValidationFailed as exc:
        return _page(request, session, user, error=exc, status=422)
    session.flush()
    if secret:
        return _page(request, session, user, secret={"id": str(row.id), "url": row.url,
                                                     "secret": secret})
    return RedirectResponse(f"{PAGE}?notice=webhook-saved", status_code=303)


@router.post(PAGE + "/{subscription_id}/delete")
def remove(subscription_id: str, user: Admin, session: WriteSession) -> Response:
    service.delete_subscription(session, user.workspace_id, _subscription_id(subscription_id),
                                user.actor)
    return RedirectResponse(f"{PAGE}?notice=webhook-deleted", status_code=303)


@router.post(PAGE + "/deliveries/{delivery_id}/redeliver")
def redeliver(delivery_id: str, request: Request, user: Admin,
              session: WriteSession) -> Response:
    if not delivery_id.isdigit() or len(delivery_id) > 18:
        raise NotFound("webhook delivery not found", code="delivery_not_found")
    try:
        service.redeliver(session, user.workspace_id, int(delivery_id), user.actor)
    except ValidationFailed as exc:
        return _page(request, session, user, error=exc, status=422)
    return RedirectResponse(f"{PAGE}?notice=redelivery-queued", status_code=303)
