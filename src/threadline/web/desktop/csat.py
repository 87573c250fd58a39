"""Settings: CSAT (admins): whether surveys are sent after a resolution, when, how often per
customer, the question, how long answers are taken, WhatsApp's style; with the last 30 days'
figures beside them. The form is checked with the API's model: a bad value re-renders the
page naming the field, with what was typed, and stores nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from threadline.csat import report
from threadline.csat.settings import CsatSettings, csat_settings, set_csat_settings
from threadline.db.base import utcnow
from threadline.errors import ValidationFailed
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
PAGE = "/settings/csat"
NUMBERS = ("delay_minutes", "period_days", "expire_days", "text_reply_hours")
MAX_FIELD = 400


def _page(request: Request, session: Any, user: DeskUser, *,
          draft: dict[str, Any] | None = None, error: ValidationFailed | None = None,
          status: int = 200) -> Response:
    now = utcnow()
    figures = report.summary(session, user.workspace_id, report.Filters(
        since=now - timedelta(days=30), until=now))
    return render(request, "csat_settings.html", {
        "draft": draft or csat_settings(session, user.workspace_id).model_dump(),
        "figures": figures, "error": error,
        "notice": request.query_params.get("notice")}, status=status)


@router.get(PAGE)
def settings_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _page(request, session, user)


def _number(text: str) -> int | str:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else text


@router.post(PAGE)
def save_settings(request: Request, form: PostedForm, user: Admin,
                  session: WriteSession) -> Response:
    draft: dict[str, Any] = {
        "enabled": form_value(form, "enabled") == "on",
        "question": form_value(form, "question")[:MAX_FIELD],
        "whatsapp_style": form_value(form, "whatsapp_style")[:20],
        **{name: form_value(form, name)[:12] for name in NUMBERS}}
    try:
        value = CsatSettings.model_validate(
            {**draft, **{name: _number(draft[name]) for name in NUMBERS}})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        return _page(request, session, user, draft=draft, status=422, error=ValidationFailed(
            f"{field}: {first.get('msg', 'invalid')}", code="invalid_settings",
            details={"field": field}))
    set_csat_settings(session, user.workspace_id, value, user.actor)
    return RedirectResponse(f"{PAGE}?notice=settings-saved", status_code=303)
