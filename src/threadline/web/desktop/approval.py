"""Approval of public replies on the desktop: the settings page (admins: the approval policy,
the public-answer topics, agents' flags), the approval queue (supervisors: the `/approvals`
page and the panel on the supervisor view, refreshed live by `approval.changed` stream events),
and the review's buttons: approve, edit and approve, reject with a reason."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from threadline.errors import ValidationFailed
from threadline.inbound.public_answers import (
    PublicAnswersIn,
    public_answers,
    set_public_answers,
    stored_public_answers,
)
from threadline.outbound import approval as service
from threadline.outbound.approval_rules import (
    ApprovalPolicy,
    approval_policy,
    set_agent_flags,
    set_approval_policy,
)
from threadline.triage import CATEGORIES
from threadline.triage.public_answers import topics_of
from threadline.web.deps import PostedForm
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
from threadline.workspace.auth import list_agents

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
PAGE = "/settings/approval"
MAX_TOPIC_TEXT = 20_000


def _topics_text(topics: list[Any]) -> str:
    return "\n".join(f"{t.topic}: {', '.join(t.keywords)}" for t in topics)


def _parse_topics(text: str) -> list[dict[str, Any]]:
    """One topic a line: `name: keyword, keyword` (the name alone is its own keyword)."""
    if len(text) > MAX_TOPIC_TEXT:
        raise ValidationFailed("the topic list is too long", code="invalid_topics")
    topics = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, words = line.partition(":")
        keywords = [w.strip() for w in (words or name).split(",") if w.strip()]
        topics.append({"topic": name.strip(), "keywords": keywords})
    return topics


def _settings(request: Request, user: DeskUser, session: Any, *, error: Exception | None = None,
              drafts: dict[str, str] | None = None, status: int = 200) -> Response:
    answers = stored_public_answers(session, user.workspace_id)
    return render(request, "approval_settings.html", {
        "policy": approval_policy(session, user.workspace_id), "categories": CATEGORIES,
        "public_text": (drafts or {}).get("public", _topics_text(answers.public)),
        "private_text": (drafts or {}).get("private", _topics_text(answers.private)),
        "agents": list_agents(session, user.workspace_id), "error": error,
        "notice": request.query_params.get("notice")}, status=status)


@router.get(PAGE)
def approval_settings(request: Request, user: Admin, session: ReadSession) -> Response:
    return _settings(request, user, session)


@router.post(PAGE + "/policy")
def save_policy(request: Request, form: PostedForm, user: Admin, session: WriteSession) -> Response:
    try:
        policy = ApprovalPolicy(
            all=form_value(form, "all") == "on",
            in_training=form_value(form, "in_training") == "on",
            not_from_template=form_value(form, "not_from_template") == "on",
            categories=[str(c) for c in form.getlist("categories")])
    except ValidationError:
        return _settings(request, user, session, status=422, error=ValidationFailed(
            "choose categories from the list", code="invalid_policy",
            details={"field": "categories"}))
    set_approval_policy(session, user.workspace_id, policy, user.actor)
    return RedirectResponse(f"{PAGE}?notice=policy-saved", status_code=303)


@router.post(PAGE + "/public-answers")
def save_public_answers(request: Request, form: PostedForm, user: Admin,
                        session: WriteSession) -> Response:
    drafts = {"public": form_value(form, "public"), "private": form_value(form, "private")}
    try:
        body = PublicAnswersIn.model_validate({k: _parse_topics(v) for k, v in drafts.items()})
    except (ValidationError, ValidationFailed) as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"]) \
            if isinstance(exc, ValidationError) else "topics"
        return _settings(request, user, session, drafts=drafts, status=422,
                         error=ValidationFailed(
                             "each line is 'topic: keyword, keyword' (at most 30 topics, 50 "
                             "keywords of 1-60 characters, no < or >)", code="invalid_topics",
                             details={"field": field}))
    set_public_answers(session, user.workspace_id, body, user.actor)
    return RedirectResponse(f"{PAGE}?notice=topics-saved", status_code=303)


@router.post(PAGE + "/agents/{agent_id}")
def save_agent_flags(agent_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                     session: WriteSession) -> Response:
    set_agent_flags(session, user.workspace_id, agent_id, user.actor,
                    in_training=form_value(form, "in_training") == "on",
                    may_post_public=form_value(form, "may_post_public") == "on")
    return RedirectResponse(f"{PAGE}?notice=agent-saved", status_code=303)


# --- the queue ---------------------------------------------------------------------------------


def _queue(session: Any, user: DeskUser) -> dict[str, Any]:
    return {"reviews": service.list_reviews(session, user.workspace_id),
            "decided": service.list_reviews(session, user.workspace_id, state=None, limit=20)}


@router.get("/approvals")
def approvals_page(request: Request, user: Supervisor, session: ReadSession) -> Response:
    return render(request, "approvals.html", {**_queue(session, user), "full": True,
                                              "notice": request.query_params.get("notice")})


@router.get("/approvals/panel")
def approvals_panel(request: Request, user: Supervisor, session: ReadSession) -> Response:
    return render(request, "partials/approval_queue_items.html",
                  {**_queue(session, user), "full": False})


def _after(request: Request, session: Any, user: DeskUser, notice: str) -> Response:
    if request.headers.get("HX-Request"):
        return render(request, "partials/approval_queue_items.html",
                      {**_queue(session, user), "full": False})
    return RedirectResponse(f"/approvals?notice={notice}", status_code=303)


@router.post("/approvals/{approval_id}/approve")
def approve(approval_id: uuid.UUID, request: Request, form: PostedForm, user: Supervisor,
            session: WriteSession) -> Response:
    text = form_value(form, "text")
    if len(text) > service.MAX_TEXT:
        raise ValidationFailed(f"at most {service.MAX_TEXT} characters", code="text_too_long",
                               details={"field": "text"})
    service.approve(session, user.workspace_id, approval_id, user.actor, user.role,
                    text=text or None)
    return _after(request, session, user, "approved")


@router.post("/approvals/{approval_id}/reject")
def reject(approval_id: uuid.UUID, request: Request, form: PostedForm, user: Supervisor,
           session: WriteSession) -> Response:
    service.reject(session, user.workspace_id, approval_id, user.actor, user.role,
                   reason=form_value(form, "reason"))
    return _after(request, session, user, "rejected")


def composer_visibility(session: Any, workspace_id: uuid.UUID, story: Any) -> str:
    """The composer's default: private when the customer's latest message is on one of the
    workspace's private-only topics, else the conversation's own default."""
    default: str = story.default_visibility
    latest = next((e.message for e in reversed(story.entries) if e.message is not None
                   and e.message.direction == "inbound" and e.message.kind != "note"), None)
    if default != "public" or latest is None:
        return default
    verdict = topics_of(latest.text or "", public_answers(session, workspace_id))
    return "private" if verdict.public_ok is False else default
