"""The knowledge base on the desktop: the article list with filters (`/knowledge`, every
agent reads), the editor with a live preview rendered on the server (`/knowledge/new`,
`/knowledge/{id}/edit`: supervisors and admins), publish and archive, the revision history;
and, in a conversation, the answer suggestions and the article picker that put an article's
link or a past answer into the composer (the reply then goes through the usual guard).
Forms are checked with the API's model: a bad one re-renders the editor naming the field,
with what was typed, and stores nothing."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from threadline.conversations.service import access_conversation
from threadline.errors import Conflict, ThreadlineError, ValidationFailed
from threadline.knowledge import service, suggestions
from threadline.knowledge.languages import NAMES
from threadline.knowledge.models import ArticleStatus
from threadline.knowledge.schemas import DEFAULT_CATEGORY, MAX_BODY
from threadline.search.syntax import SearchError
from threadline.web.deps import PostedForm
from threadline.web.desktop.render import render
from threadline.web.desktop.security import (
    Anyone,
    DesktopRoute,
    ReadSession,
    Supervisor,
    WriteSession,
)

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
LIST = "/knowledge"
FIELDS = ("title", "slug", "category", "language", "tags", "questions", "body")


def base_url(request: Request) -> str:
    public: str | None = request.app.state.runtime.settings.public_url
    return public or str(request.base_url)


def _raw(form: Any) -> dict[str, Any]:
    """The editor's form as the API's `ArticleIn` input (tags comma-separated, one question
    a line); oversized fields are left for the model to refuse, naming them."""
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    raw: dict[str, Any] = {
        "title": text("title"), "body": text("body"),
        "category": text("category").strip() or DEFAULT_CATEGORY,
        "language": text("language").strip() or "en",
        "tags": [t for t in (p.strip() for p in text("tags").split(",")[:100]) if t],
        "questions": [q for q in (line.strip() for line in
                                  text("questions").splitlines()[:200]) if q],
    }
    slug = text("slug").strip()
    if slug:
        raw["slug"] = slug
    return raw


def _draft(form: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in FIELDS:
        value = form.get(name)
        out[name] = (value if isinstance(value, str) else "")[:MAX_BODY + 10]
    return out


# --- list and read ------------------------------------------------------------------------


@router.get(LIST)
def list_page(request: Request, user: Anyone, session: ReadSession) -> Response:
    params = request.query_params
    status = params.get("status") or None
    language = params.get("language") or None
    category = params.get("category") or None
    text = (params.get("q") or "")[:200] or None
    error = None
    try:
        rows = service.list_articles(session, user.workspace_id, status=status,
                                     language=language, category=category, text=text)
    except ValidationFailed as exc:
        rows, error = [], exc
    return render(request, "knowledge/list.html", {
        "articles": rows, "categories": service.categories(session, user.workspace_id),
        "filters": {"status": status or "", "language": language or "",
                    "category": category or "", "q": text or ""},
        "statuses": ArticleStatus.ALL, "languages": NAMES, "error": error,
        "can_edit": user.can("supervisor"), "notice": params.get("notice"),
        "base": base_url(request)}, status=error.status if error else 200)


@router.get(LIST + "/new")
def new_page(request: Request, user: Supervisor, session: ReadSession) -> Response:
    return _editor(request, session, user.workspace_id, None,
                   draft={"language": "en", "category": DEFAULT_CATEGORY})


@router.post(LIST + "/new")
def create(request: Request, form: PostedForm, user: Supervisor,
           session: WriteSession) -> Response:
    try:
        article = service.save_article(session, user.workspace_id,
                                       service.parse_article(_raw(form)), user.actor)
    except (ValidationFailed, Conflict) as exc:
        return _editor(request, session, user.workspace_id, None, draft=_draft(form),
                       error=exc, status=exc.status)
    return RedirectResponse(f"{LIST}/{article.id}/edit?notice=saved", status_code=303)


@router.post(LIST + "/preview")
def preview(request: Request, form: PostedForm, user: Supervisor) -> Response:
    """The editor's live preview: the body's Markdown as the help centre will show it."""
    value = form.get("body")
    body = value if isinstance(value, str) else ""
    if len(body) > MAX_BODY:
        return render(request, "knowledge/preview.html", {"html": "", "too_long": True})
    return render(request, "knowledge/preview.html",
                  {"html": service.render_article_html(body), "too_long": False})


@router.get(LIST + "/{article_id}")
def read_page(article_id: uuid.UUID, request: Request, user: Anyone,
              session: ReadSession) -> Response:
    article = service.get_article(session, user.workspace_id, article_id)
    return render(request, "knowledge/read.html", {
        "article": article, "html": service.render_article_html(article.body),
        "url": service.article_url(base_url(request), user.workspace_id, article),
        "can_edit": user.can("supervisor")})


def _editor(request: Request, session: Any, workspace_id: uuid.UUID,
            article_id: uuid.UUID | None, *, draft: dict[str, Any] | None = None,
            error: ThreadlineError | None = None, status: int = 200) -> Response:
    article = service.get_article(session, workspace_id, article_id) if article_id else None
    if draft is None and article is not None:
        draft = {"title": article.title, "slug": article.slug, "category": article.category,
                 "language": article.language, "tags": ", ".join(article.tags),
                 "questions": "\n".join(article.questions), "body": article.body}
    draft = draft or {}
    return render(request, "knowledge/edit.html", {
        "article": article, "draft": draft, "error": error,
        "error_field": (error.details or {}).get("field") if error else None,
        "categories": service.categories(session, workspace_id), "languages": NAMES,
        "preview": service.render_article_html(str(draft.get("body") or "")[:MAX_BODY]),
        "url": service.article_url(base_url(request), workspace_id, article)
        if article else None,
        "max_body": MAX_BODY, "notice": request.query_params.get("notice")}, status=status)


@router.get(LIST + "/{article_id}/edit")
def edit_page(article_id: uuid.UUID, request: Request, user: Supervisor,
              session: ReadSession) -> Response:
    return _editor(request, session, user.workspace_id, article_id)


@router.post(LIST + "/{article_id}/edit")
def update(article_id: uuid.UUID, request: Request, form: PostedForm, user: Supervisor,
           session: WriteSession) -> Response:
    try:
        service.save_article(session, user.workspace_id, service.parse_article(_raw(form)),
                             user.actor, article_id=article_id)
    except (ValidationFailed, Conflict) as exc:
        return _editor(request, session, user.workspace_id, article_id, draft=_draft(form),
                       error=exc, status=exc.status)
    return RedirectResponse(f"{LIST}/{article_id}/edit?notice=saved", status_code=303)


@router.post(LIST + "/{article_id}/publish")
def publish(article_id: uuid.UUID, user: Supervisor, session: WriteSession) -> Response:
    service.publish_article(session, user.workspace_id, article_id, user.actor)
    return RedirectResponse(f"{LIST}/{article_id}/edit?notice=published", status_code=303)


@router.post(LIST + "/{article_id}/archive")
def archive(article_id: uuid.UUID, user: Supervisor, session: WriteSession) -> Response:
    service.archive_article(session, user.workspace_id, article_id, user.actor)
    return RedirectResponse(f"{LIST}/{article_id}/edit?notice=archived", status_code=303)


@router.get(LIST + "/{article_id}/revisions")
def revisions_page(article_id: uuid.UUID, request: Request, user: Anyone,
                   session: ReadSession) -> Response:
    article = service.get_article(session, user.workspace_id, article_id)
    rows = service.revisions(session, user.workspace_id, article_id)
    shown = None
    number = request.query_params.get("n")
    if number and number.isdigit():
        shown = service.get_revision(session, user.workspace_id, article_id, int(number))
    return render(request, "knowledge/revisions.html", {
        "article": article, "revisions": rows, "shown": shown,
        "shown_html": service.render_article_html(shown.body) if shown else None,
        "can_edit": user.can("supervisor")})


# --- in a conversation --------------------------------------------------------------------


@router.get("/conversations/{conversation_id}/suggestions")
def conversation_suggestions(conversation_id: uuid.UUID, request: Request, user: Anyone,
                             session: ReadSession) -> Response:
    found = suggestions.suggest(session, user.workspace_id, conversation_id,
                                base_url=base_url(request))
    return render(request, "knowledge/suggestions.html", {
        "conversation_id": conversation_id, "found": found})


@router.get("/conversations/{conversation_id}/articles")
def article_picker(conversation_id: uuid.UUID, request: Request, user: Anyone,
                   session: ReadSession) -> Response:
    """The composer's article picker: published articles matching the words typed."""
    access_conversation(session, user.workspace_id, conversation_id)
    text = (request.query_params.get("q") or "").strip()[:200]
    base = base_url(request)
    error = None
    items: list[dict[str, str]] = []
    if text:
        try:
            hits = service.search_articles(session, user.workspace_id, text, limit=8)
            items = [{"title": h.article.title, "snippet_html": h.snippet_html,
                      "language": h.article.language,
                      "insert": f"{h.article.title}: "
                                f"{service.article_url(base, user.workspace_id, h.article)}"}
                     for h in hits]
        except SearchError as exc:
            error = exc.message
    else:
        items = [{"title": a.title, "snippet_html": "", "language": a.language,
                  "insert": f"{a.title}: {service.article_url(base, user.workspace_id, a)}"}
                 for a in service.popular_articles(session, user.workspace_id, None, 8)]
    return render(request, "knowledge/picker.html", {"items": items, "error": error,
                                                     "query": text})
