"""The peer community in the desktop: the "Community" card of a conversation that began as a
forum topic (its state: with the peers until a deadline, escalated and why, solved, answered;
a link to the topic; "Make a knowledge base article" once an answer is accepted), and the
admins' settings page of the escalation rules (checked with the API's model: a bad value
re-renders the page naming the field, with what was typed, and stores nothing)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from threadline.community import service
from threadline.community.settings import (
    CommunitySettings,
    community_settings,
    set_community_settings,
)
from threadline.conversations.service import access_conversation
from threadline.errors import ThreadlineError, ValidationFailed
from threadline.web.deps import PostedForm
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
PAGE = "/settings/community"
REASONS = {"no_answer": "nobody answered in time", "negative_sentiment": "negative sentiment",
           "complaint": "a complaint"}


def _card(request: Request, session: Any, user: DeskUser, conversation_id: uuid.UUID, *,
          article: Any = None, error: ThreadlineError | None = None,
          status: int = 200) -> Response:
    conv = access_conversation(session, user.workspace_id, conversation_id)
    state = service.state_of(session, conv)
    forum = service.forum_url(session, conv) if state is not None else None
    return render(request, "partials/community_card.html", {
        "conversation_id": conv.id, "state": state, "forum": forum, "reasons": REASONS,
        "article": article, "error": error}, status=status)


@router.get("/conversations/{conversation_id}/community")
def community_card(conversation_id: uuid.UUID, request: Request, user: Anyone,
                   session: ReadSession) -> Response:
    return _card(request, session, user, conversation_id)


@router.post("/conversations/{conversation_id}/community/article")
def make_article(conversation_id: uuid.UUID, request: Request, form: PostedForm,
                 user: Anyone, session: WriteSession) -> Response:
    try:
        article = service.article_from_answer(session, user.workspace_id, conversation_id,
                                              user.actor)
    except ValidationFailed as exc:
        return _card(request, session, user, conversation_id, error=exc, status=exc.status)
    return _card(request, session, user, conversation_id, article=article)


def _page(request: Request, session: Any, user: DeskUser, *,
          draft: dict[str, Any] | None = None, error: ThreadlineError | None = None,
          status: int = 200) -> Response:
    values = draft or community_settings(session, user.workspace_id).model_dump()
    return render(request, "community_settings.html", {
        "draft": values, "error": error, "notice": request.query_params.get("notice")},
        status=status)


@router.get(PAGE)
def settings_page(request: Request, user: Admin, session: ReadSession) -> Response:
    return _page(request, session, user)


@router.post(PAGE)
def save_settings(request: Request, form: PostedForm, user: Admin,
                  session: WriteSession) -> Response:
    draft: dict[str, Any] = {
        "enabled": form_value(form, "enabled") == "on",
        "escalate_after_hours": form_value(form, "escalate_after_hours")[:12],
        "escalate_on_negative": form_value(form, "escalate_on_negative") == "on",
        "escalate_on_complaint": form_value(form, "escalate_on_complaint") == "on",
        "article_category": form_value(form, "article_category")[:200]}
    try:
        hours: Any = float(draft["escalate_after_hours"])
    except ValueError:
        hours = draft["escalate_after_hours"]
    try:
        CommunitySettings.model_validate({**draft, "escalate_after_hours": hours})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        return _page(request, session, user, draft=draft, status=422, error=ValidationFailed(
            f"{field}: {first.get('msg', 'invalid')}", code="invalid_community_settings",
            details={"field": field}))
    set_community_settings(session, user.workspace_id,
                           {**draft, "escalate_after_hours": hours}, user.actor)
    return RedirectResponse(f"{PAGE}?notice=settings-saved", status_code=303)
