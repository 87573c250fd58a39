"""Settings: the self-service bot (admins): on or off for the workspace, and per channel
account (web chat on unless switched off; Messenger, WhatsApp and Telegram off unless switched
on), the confidence it needs, the minutes after which an unanswered answer counts as a
deflection; the last 30 days' deflection and handover rates beside them, and a try-out box
showing the article a message would get. The form is checked with the API's model: a bad
value re-renders the page naming the field, with what was typed, and stores nothing."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from threadline.errors import ThreadlineError, ValidationFailed
from threadline.selfservice import service
from threadline.selfservice.settings import ON_BY_DEFAULT, SelfServiceSettings
from threadline.web.deps import PostedForm
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
PAGE = "/settings/self-service"
MAX_TRY = 4000


def _page(request: Request, session: Any, user: DeskUser, *,
          draft: dict[str, Any] | None = None, error: ThreadlineError | None = None,
          tried: dict[str, Any] | None = None, status: int = 200) -> Response:
    current = service.settings_of(session, user.workspace_id)
    values = draft or current.model_dump()
    accounts = [{"id": str(a.id), "name": a.name, "kind": a.kind,
                 "on": values.get("accounts", {}).get(str(a.id), a.kind in ON_BY_DEFAULT)}
                for a in service.bot_accounts(session, user.workspace_id)]
    return render(request, "selfservice_settings.html", {
        "draft": values, "accounts": accounts, "error": error, "tried": tried,
        "figures": service.figures(session, user.workspace_id, 30),
        "notice": request.query_params.get("notice")}, status=status)


@router.get(PAGE)
def settings_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _page(request, session, user)


def _number(text: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text) if len(text) <= 12 else text
    except ValueError:
        return text


@router.post(PAGE)
def save_settings(request: Request, form: PostedForm, user: Admin,
                  session: WriteSession) -> Response:
    mine = {str(a.id) for a in service.bot_accounts(session, user.workspace_id)}
    accounts = {key: form_value(form, f"account-{key}") == "on" for key in mine}
    draft: dict[str, Any] = {
        "enabled": form_value(form, "enabled") == "on",
        "threshold": form_value(form, "threshold")[:12],
        "deflect_after_minutes": form_value(form, "deflect_after_minutes")[:12],
        "accounts": accounts}
    try:
        value = SelfServiceSettings.model_validate({
            **draft, "threshold": _number(draft["threshold"], float),
            "deflect_after_minutes": _number(draft["deflect_after_minutes"], int)})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        return _page(request, session, user, draft=draft, status=422, error=ValidationFailed(
            f"{field}: {first.get('msg', 'invalid')}", code="invalid_settings",
            details={"field": field}))
    service.save_settings(session, user.workspace_id, value, user.actor)
    return RedirectResponse(f"{PAGE}?notice=settings-saved", status_code=303)


@router.post(f"{PAGE}/try")
def try_message(request: Request, form: PostedForm, user: Admin,
                session: ReadSession) -> Response:
    text = form_value(form, "text")[:MAX_TRY].strip()
    if not text:
        return _page(request, session, user, status=422, error=ValidationFailed(
            "text: write a customer's message to try", code="invalid_text",
            details={"field": "text"}))
    found = service.match(session, user.workspace_id, text)
    article = service.published_article(session, user.workspace_id, found.article_id) \
        if isinstance(found.article_id, uuid.UUID) else None
    threshold = service.settings_of(session, user.workspace_id).threshold
    return _page(request, session, user, tried={
        "text": text, "title": article.title if article else None,
        "confidence": found.confidence, "threshold": threshold,
        "answers": article is not None and found.confident(threshold)})
