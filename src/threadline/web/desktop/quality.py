"""Quality reviews on the desktop: the review queue (`/quality`, supervisors and admins), a
review's form beside the conversation's timeline (`/quality/reviews/{id}`; the agent reviewed
reads it there once done), an agent's own reviews (`/quality/mine`) and the scorecards and
sampling settings (`/settings/quality`, admins). Forms are checked with the API's models: a
bad one re-renders the page naming the field, with what was typed, and stores nothing."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from itertools import zip_longest
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from threadline.analytics.timeline import conversation_story
from threadline.db.base import utcnow
from threadline.errors import Conflict, Forbidden, NotFound, ThreadlineError, ValidationFailed
from threadline.quality import reports, reviews, scorecards
from threadline.quality.rules import SCALE_LABELS, SCALES, VALUE_LABELS
from threadline.quality.schemas import ReviewCreate
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
from threadline.workspace.models import Role

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
QUEUE = "/quality"
SETTINGS = "/settings/quality"
MAX_FIELD = 6000
MAX_ROWS = 40
ANSWER = "answer."
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
COMMON = {"scales": SCALES, "scale_labels": SCALE_LABELS, "value_labels": VALUE_LABELS}


def _text(form: Any, name: str, limit: int = MAX_FIELD) -> str:
    value = form_value(form, name)
    if len(value) > limit:
        raise ValidationFailed(f"{name}: at most {limit} characters", code="invalid_input",
                               details={"field": name})
    return value


# --- the queue --------------------------------------------------------------------------------


def _queue_page(request: Request, session: Any, user: DeskUser, *,
                error: ThreadlineError | None = None, draft: str = "",
                status: int = 200) -> Response:
    pending = reviews.list_reviews(session, user.workspace_id, status="pending",
                                   exclude_agent=user.agent_id)
    done = reviews.list_reviews(session, user.workspace_id, status="done", limit=30)
    now = utcnow()
    return render(request, "quality_queue.html", {
        "pending": reviews.reviews_out(session, pending),
        "done": reviews.reviews_out(session, done),
        "scores": reports.qa_scores(session, user.workspace_id, now - timedelta(days=30), now),
        "error": error, "draft": draft, "notice": request.query_params.get("notice"),
        **COMMON}, status=status)


@router.get(QUEUE)
def queue_page(request: Request, user: Supervisor, session: ReadSession) -> Response:
    return _queue_page(request, session, user)


@router.post(QUEUE + "/add")
def add_conversation(request: Request, form: PostedForm, user: Supervisor,
                     session: WriteSession) -> Response:
    """A conversation by id or by its desktop address (…/conversations/<id>)."""
    draft = form_value(form, "conversation")[:300]
    try:
        match = _UUID.search(_text(form, "conversation", 300))
        if match is None:
            raise ValidationFailed("conversation: paste a conversation's id or address",
                                   code="invalid_input", details={"field": "conversation"})
        review = reviews.add_conversation(session, user.workspace_id, ReviewCreate(
            conversation_id=uuid.UUID(match.group(0))), user.actor)
    except (ValidationFailed, NotFound, Conflict, Forbidden) as exc:
        return _queue_page(request, session, user, error=exc, draft=draft, status=exc.status)
    return RedirectResponse(f"{QUEUE}/reviews/{review.id}", status_code=303)


# --- one review -------------------------------------------------------------------------------


def _review_page(request: Request, session: Any, user: DeskUser, review_id: uuid.UUID, *,
                 error: ThreadlineError | None = None, draft: dict[str, Any] | None = None,
                 status: int = 200) -> Response:
    supervisor = user.can(Role.SUPERVISOR)
    review = reviews.access_review(session, user.workspace_id, review_id,
                                   viewer=user.agent_id, supervisor=supervisor)
    version, criteria = reviews.form_criteria(session, review)
    story = conversation_story(session, user.workspace_id, review.conversation_id)
    [out] = reviews.reviews_out(session, [review])
    answered = {a.key: a.value for a in out.answers}
    return render(request, "quality_review.html", {
        "review": out, "story": story, "conv": story.conversation, "criteria": criteria,
        "version": version,
        "own": review.agent_id == user.agent_id,
        "can_answer": supervisor and review.agent_id != user.agent_id,
        "draft": draft or {"answers": answered, "comment": out.comment or ""},
        "error": error, **COMMON}, status=status)


@router.get(QUEUE + "/reviews/{review_id}")
def review_page(review_id: uuid.UUID, request: Request, user: Anyone,
                session: ReadSession) -> Response:
    return _review_page(request, session, user, review_id)


@router.post(QUEUE + "/reviews/{review_id}")
def answer_review(review_id: uuid.UUID, request: Request, form: PostedForm, user: Supervisor,
                  session: WriteSession) -> Response:
    answers = {key[len(ANSWER):]: value for key, value in list(form.multi_items())[:100]
               if key.startswith(ANSWER) and isinstance(value, str)}
    value = form.get("comment")
    comment = value if isinstance(value, str) else None
    raw: dict[str, Any] = {"answers": answers, "comment": comment}
    draft = {"answers": {k: v[:8] for k, v in answers.items()},
             "comment": (comment or "")[:MAX_FIELD]}
    try:
        reviews.submit_review(session, user.workspace_id, review_id,
                              reviews.parse_review(raw), user.actor)
    except (ValidationFailed, Forbidden) as exc:
        return _review_page(request, session, user, review_id, error=exc, draft=draft,
                            status=exc.status)
    return RedirectResponse(f"{QUEUE}?notice=review-saved", status_code=303)


@router.get(QUEUE + "/mine")
def my_reviews(request: Request, user: Anyone, session: ReadSession) -> Response:
    rows = reviews.my_reviews(session, user.workspace_id, user.agent_id)
    return render(request, "quality_mine.html", {"reviews": reviews.reviews_out(session, rows),
                                                 **COMMON})


# --- settings ---------------------------------------------------------------------------------


def _settings_page(request: Request, session: Any, user: DeskUser, *,
                   draft: dict[str, Any] | None = None,
                   sampling: dict[str, Any] | None = None,
                   error: ThreadlineError | None = None, status: int = 200) -> Response:
    scorecards.ensure_defaults(session, user.workspace_id)
    rows = scorecards.list_scorecards(session, user.workspace_id)
    criteria = scorecards.current_criteria(session, rows)
    edit = request.query_params.get("edit")
    editing = next((r for r in rows if str(r.id) == edit), None)
    if draft is None and editing is not None:
        draft = {"id": str(editing.id), "name": editing.name,
                 "description": editing.description, "is_default": editing.is_default,
                 "criteria": criteria.get(editing.id, [])}
    draft = draft or {"name": "", "description": "", "is_default": False, "criteria": []}
    blank = {"key": "", "label": "", "description": "", "weight": 1, "scale": "yes_no_na"}
    rows_shown = list(draft["criteria"]) + [blank] * 3
    return render(request, "quality_settings.html", {
        "scorecards": rows, "criteria": criteria, "draft": draft, "rows": rows_shown,
        "sampling": sampling or scorecards.sampling_settings(
            session, user.workspace_id).model_dump(),
        "error": error, "notice": request.query_params.get("notice"), **COMMON}, status=status)


@router.get(SETTINGS)
def settings_page(request: Request, user: Admin, session: WriteSession) -> Response:
    return _settings_page(request, session, user)


def _number(text: str) -> int | str:
    """A form's number as an int (what the strict models take), else as typed (refused with
    the field named)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text


def _slug(label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40]
    return slug if slug[:1].isalpha() else f"c_{slug}"[:40]


def _criteria_from(form: Any) -> list[dict[str, Any]]:
    columns = [[v if isinstance(v, str) else "" for v in form.getlist(f"c_{name}")][:MAX_ROWS]
               for name in ("key", "label", "description", "weight", "scale")]
    out = []
    for key, label, description, weight, scale in zip_longest(*columns, fillvalue=""):
        key, label = key.strip()[:60], label.strip()[:200]
        if not key and not label:
            continue
        out.append({"key": key or _slug(label), "label": label,
                    "description": description.strip()[:MAX_FIELD],
                    "weight": weight.strip()[:12], "scale": scale.strip()[:20]})
    return out


def _save_scorecard(request: Request, form: FormData, user: Admin, session: WriteSession,
                    scorecard_id: uuid.UUID | None) -> Response:
    draft: dict[str, Any] = {
        "id": str(scorecard_id) if scorecard_id else None,
        "name": form_value(form, "name")[:300],
        "description": form_value(form, "description")[:MAX_FIELD],
        "is_default": form_value(form, "is_default") == "on",
        "criteria": _criteria_from(form)}
    try:
        data = scorecards.parse_scorecard({
            "name": _text(form, "name"), "description": _text(form, "description"),
            "criteria": [{**c, "weight": _number(c["weight"])} for c in draft["criteria"]],
            "is_default": draft["is_default"]})
        scorecards.save_scorecard(session, user.workspace_id, data, user.actor, scorecard_id)
    except (ValidationFailed, NotFound) as exc:
        if isinstance(exc, NotFound):
            raise
        return _settings_page(request, session, user, draft=draft, error=exc,
                              status=exc.status)
    return RedirectResponse(f"{SETTINGS}?notice=scorecard-saved", status_code=303)


@router.post(SETTINGS + "/scorecards")
def create_scorecard(request: Request, form: PostedForm, user: Admin,
                     session: WriteSession) -> Response:
    return _save_scorecard(request, form, user, session, None)


@router.post(SETTINGS + "/scorecards/{scorecard_id}")
def update_scorecard(scorecard_id: uuid.UUID, request: Request, form: PostedForm, user: Admin,
                     session: WriteSession) -> Response:
    return _save_scorecard(request, form, user, session, scorecard_id)


@router.post(SETTINGS + "/scorecards/{scorecard_id}/archive")
def archive_scorecard(scorecard_id: uuid.UUID, request: Request, user: Admin,
                      session: WriteSession) -> Response:
    try:
        scorecards.set_active(session, user.workspace_id, scorecard_id, False, user.actor)
    except ValidationFailed as exc:
        return _settings_page(request, session, user, error=exc, status=exc.status)
    return RedirectResponse(f"{SETTINGS}?notice=scorecard-archived", status_code=303)


@router.post(SETTINGS + "/scorecards/{scorecard_id}/restore")
def restore_scorecard(scorecard_id: uuid.UUID, user: Admin, session: WriteSession) -> Response:
    scorecards.set_active(session, user.workspace_id, scorecard_id, True, user.actor)
    return RedirectResponse(f"{SETTINGS}?notice=scorecard-restored", status_code=303)


@router.post(SETTINGS + "/sampling")
def save_sampling(request: Request, form: PostedForm, user: Admin,
                  session: WriteSession) -> Response:
    flags = ("low_csat", "reopened", "hopped", "public_complaint")
    numbers = ("random_percent", "low_csat_max_score", "max_rule_reviews_per_agent_week")
    raw: dict[str, Any] = {**{f: form_value(form, f) == "on" for f in flags},
                           **{n: form_value(form, n)[:12] for n in numbers}}
    try:
        data = scorecards.parse_sampling({k: _number(v) if k in numbers else v
                                          for k, v in raw.items()})
    except ValidationFailed as exc:
        return _settings_page(request, session, user, sampling=raw, error=exc,
                              status=exc.status)
    scorecards.set_sampling_settings(session, user.workspace_id, data, user.actor)
    return RedirectResponse(f"{SETTINGS}?notice=sampling-saved", status_code=303)
