"""Articles of a workspace: save (a draft, or a new revision), publish, archive, read; the
public help centre's reads, views and votes; and article search. Published articles are
indexed through `threadline.search` (decision 0328). Services never commit."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from threadline.conversations.service import SYSTEM, Actor
from threadline.db.base import new_id, utcnow
from threadline.errors import Conflict, NotFound, ValidationFailed, invalid_input
from threadline.events.service import audit
from threadline.knowledge import index, markdown
from threadline.knowledge.languages import normalise
from threadline.knowledge.models import Article, ArticleRevision, ArticleStatus, ArticleVote
from threadline.knowledge.schemas import MAX_BODY, ArticleIn, ArticleOut, slugify
from threadline.webchat.service import chat_account
from threadline.workspace.models import Agent, Workspace

__all__ = ["SYSTEM", "Actor", "ArticleHit", "archive_article", "article_out", "article_url",
           "get_article", "parse_article", "publish_article", "published_articles",
           "render_article_html", "save_article", "search_articles", "slugify"]

MAX_QUERY = 200


# --- input ------------------------------------------------------------------------------------


def parse_article(raw: Any) -> ArticleIn:
    """Untrusted input as an `ArticleIn`, or a typed 422 naming the field: `unknown_language`
    for a language outside ISO 639-1, `article_too_large` for a body over the limit,
    `invalid_article` otherwise."""
    try:
        return ArticleIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else None
        field = str(first["loc"][0]) if first and first["loc"] else ""
        code = "invalid_article"
        if field == "language":
            code = "unknown_language"
        elif field == "body" and first is not None and first["type"] == "string_too_long":
            code = "article_too_large"
        err = invalid_input(exc, code, what="article")
        if code == "article_too_large":
            err.message = f"body: the article is longer than {MAX_BODY} characters"
        raise err from None


def language_or_none(raw: str | None) -> str | None:
    """A language filter: None for none, its canonical tag, or the typed 422."""
    if raw is None or raw == "":
        return None
    tag = normalise(raw)
    if tag is None:
        raise ValidationFailed(f"language: unknown language {raw[:16]!r}",
                               code="unknown_language", details={"field": "language"})
    return tag


# --- reads ------------------------------------------------------------------------------------


def get_article(session: Session, workspace_id: uuid.UUID, article_id: uuid.UUID) -> Article:
    """The workspace's article, or NotFound (also for another workspace's id)."""
    article = session.scalar(select(Article).where(Article.id == article_id,
                                                   Article.workspace_id == workspace_id))
    if article is None:
        raise NotFound("article not found", code="article_not_found")
    return article


def list_articles(session: Session, workspace_id: uuid.UUID, *, status: str | None = None,
                  language: str | None = None, category: str | None = None,
                  text: str | None = None, limit: int = 200) -> list[Article]:
    """The editors' list, newest change first, filtered by status, language, category and
    words of the title."""
    stmt = select(Article).where(Article.workspace_id == workspace_id)
    if status:
        if status not in ArticleStatus.ALL:
            raise ValidationFailed("status: must be draft, published or archived",
                                   code="invalid_filter", details={"field": "status"})
        stmt = stmt.where(Article.status == status)
    if language:
        stmt = stmt.where(Article.language == language_or_none(language))
    if category:
        stmt = stmt.where(Article.category == category)
    if text:
        stmt = stmt.where(_like(Article.title, text[:MAX_QUERY]))
    return list(session.scalars(stmt.order_by(Article.updated_at.desc(), Article.id.desc())
                                .limit(max(1, min(limit, 500)))))


def published_articles(session: Session, workspace_id: uuid.UUID,
                       language: str | None = None) -> Sequence[Article]:
    """Every published article of the workspace (in one language when given), by category
    and title."""
    stmt = select(Article).where(Article.workspace_id == workspace_id,
                                 Article.status == ArticleStatus.PUBLISHED)
    if language:
        stmt = stmt.where(Article.language == language)
    return list(session.scalars(stmt.order_by(Article.category, Article.title)))


def categories(session: Session, workspace_id: uuid.UUID) -> list[str]:
    return list(session.scalars(select(Article.category).where(
        Article.workspace_id == workspace_id).distinct().order_by(Article.category)))


def revisions(session: Session, workspace_id: uuid.UUID,
              article_id: uuid.UUID) -> list[ArticleRevision]:
    get_article(session, workspace_id, article_id)
    return list(session.scalars(select(ArticleRevision).where(
        ArticleRevision.article_id == article_id,
        ArticleRevision.workspace_id == workspace_id).order_by(ArticleRevision.number.desc())))


def get_revision(session: Session, workspace_id: uuid.UUID, article_id: uuid.UUID,
                 number: int) -> ArticleRevision:
    row = session.scalar(select(ArticleRevision).where(
        ArticleRevision.article_id == article_id, ArticleRevision.workspace_id == workspace_id,
        ArticleRevision.number == number))
    if row is None:
        raise NotFound("revision not found", code="revision_not_found")
    return row


# --- writes -----------------------------------------------------------------------------------


def _free_slug(session: Session, workspace_id: uuid.UUID, language: str, wanted: str,
               own_id: uuid.UUID | None, explicit: bool) -> str:
    taken = set(session.scalars(select(Article.slug).where(
        Article.workspace_id == workspace_id, Article.language == language,
        Article.slug.like(f"{wanted}%"),
        *([Article.id != own_id] if own_id is not None else []))))
    if wanted not in taken:
        return wanted
    if explicit:
        raise Conflict(f"slug: {wanted!r} is already used by another article in this language",
                       code="slug_taken", details={"field": "slug"})
    number = 2
    while f"{wanted[:110]}-{number}" in taken:
        number += 1
    return f"{wanted[:110]}-{number}"


def _author_name(session: Session, actor: Actor) -> str | None:
    if actor.agent_id is not None:
        agent = session.get(Agent, actor.agent_id)
        if agent is not None:
            return agent.name
    return None if actor.type != "system" else "Threadline"


def save_article(session: Session, workspace_id: uuid.UUID, data: ArticleIn, actor: Actor,
                 article_id: uuid.UUID | None = None) -> Article:
    """A new draft (no `article_id`), or the article's new text as its next revision. A
    published article stays published with the new text (and is indexed again)."""
    now = utcnow()
    explicit = data.slug is not None
    if article_id is None:
        article = Article(id=new_id(), workspace_id=workspace_id, status=ArticleStatus.DRAFT,
                          revision=1, views=0, helpful_yes=0, helpful_no=0, created_at=now)
        action = "article.created"
    else:
        article = get_article(session, workspace_id, article_id)
        article.revision += 1
        action = "article.updated"
        if not explicit and data.language == article.language:
            data = data.model_copy(update={"slug": article.slug})
    slug = _free_slug(session, workspace_id, data.language, data.slug_or_title(),
                      article.id if article_id is not None else None, explicit)
    article.slug = slug
    article.title = data.title
    article.body = data.body
    article.category = data.category
    article.language = data.language
    article.tags = list(data.tags)
    article.questions = list(data.questions)
    article.updated_at = now
    if article_id is None:
        session.add(article)
    session.add(ArticleRevision(
        article_id=article.id, workspace_id=workspace_id, number=article.revision,
        title=data.title, body=data.body, author_type=actor.type, author_id=actor.id,
        author_name=_author_name(session, actor), created_at=now))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("slug: another article took this slug at the same time",
                       code="slug_taken", details={"field": "slug"}) from None
    if article.status == ArticleStatus.PUBLISHED:
        _index(session, article)
    audit(session, workspace_id, action, "article", article.id, actor_type=actor.type,
          actor_id=actor.id, data={"revision": article.revision})
    return article


def publish_article(session: Session, workspace_id: uuid.UUID, article_id: uuid.UUID,
                    actor: Actor) -> Article:
    """Make the article public in the help centre and searchable (again, if archived)."""
    article = get_article(session, workspace_id, article_id)
    now = utcnow()
    article.status = ArticleStatus.PUBLISHED
    article.published_at = now
    article.updated_at = now
    session.flush()
    _index(session, article)
    audit(session, workspace_id, "article.published", "article", article.id,
          actor_type=actor.type, actor_id=actor.id, data={"revision": article.revision})
    return article


def archive_article(session: Session, workspace_id: uuid.UUID, article_id: uuid.UUID,
                    actor: Actor) -> Article:
    """Withdraw the article from the help centre and from search (its text is kept)."""
    article = get_article(session, workspace_id, article_id)
    article.status = ArticleStatus.ARCHIVED
    article.updated_at = utcnow()
    session.flush()
    index.remove(session, article)
    audit(session, workspace_id, "article.archived", "article", article.id,
          actor_type=actor.type, actor_id=actor.id, data={})
    return article


def _index(session: Session, article: Article) -> None:
    index.put(session, article)


# --- the public help centre -------------------------------------------------------------------


def help_workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound("help centre not found", code="help_centre_not_found")
    return workspace


def widget_workspace(session: Session, account_id: str) -> uuid.UUID:
    """The workspace of an active web chat account (the widget's help panel), or NotFound."""
    return chat_account(session, account_id).workspace_id


def popular_articles(session: Session, workspace_id: uuid.UUID, language: str | None,
                     limit: int = 10) -> list[Article]:
    stmt = select(Article).where(Article.workspace_id == workspace_id,
                                 Article.status == ArticleStatus.PUBLISHED)
    if language:
        stmt = stmt.where(Article.language == language)
    return list(session.scalars(stmt.order_by(Article.views.desc(), Article.title)
                                .limit(limit)))


def help_languages(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """The languages the workspace has published articles in."""
    return list(session.scalars(select(Article.language).where(
        Article.workspace_id == workspace_id, Article.status == ArticleStatus.PUBLISHED)
        .distinct().order_by(Article.language)))


def public_article(session: Session, workspace_id: uuid.UUID, language: str,
                   slug: str) -> Article:
    """A published article by its address, or NotFound (drafts and archived ones too)."""
    article = session.scalar(select(Article).where(
        Article.workspace_id == workspace_id, Article.language == language,
        Article.slug == slug, Article.status == ArticleStatus.PUBLISHED))
    if article is None:
        raise NotFound("article not found", code="article_not_found")
    return article


def public_article_by_id(session: Session, workspace_id: uuid.UUID,
                         article_id: uuid.UUID) -> Article:
    article = get_article(session, workspace_id, article_id)
    if article.status != ArticleStatus.PUBLISHED:
        raise NotFound("article not found", code="article_not_found")
    return article


def record_view(session: Session, article: Article) -> None:
    """Count one view of the article (one UPDATE: concurrent views all count)."""
    session.execute(update(Article).where(Article.id == article.id)
                    .values(views=Article.views + 1).execution_options(
                        synchronize_session=False))


def voter_key(browser_token: str) -> str:
    """How a vote remembers the browser: a hash of its random cookie (nothing personal)."""
    return hashlib.sha256(browser_token.encode()).hexdigest()


def vote(session: Session, workspace_id: uuid.UUID, article_id: uuid.UUID, voter: str,
         helpful: bool) -> Article:
    """The browser's "was this helpful?" answer: one vote per browser and article; voting
    again changes the vote (the counters move), never adds one."""
    article = public_article_by_id(session, workspace_id, article_id)
    previous = session.scalar(select(ArticleVote).where(ArticleVote.article_id == article.id,
                                                        ArticleVote.voter == voter))
    yes, no = 0, 0
    if previous is None:
        try:
            with session.begin_nested():
                session.add(ArticleVote(article_id=article.id, workspace_id=workspace_id,
                                        voter=voter, helpful=helpful))
                session.flush()
        except IntegrityError:  # the same browser's other click won the race
            return article
        yes, no = (1, 0) if helpful else (0, 1)
    elif previous.helpful != helpful:
        previous.helpful = helpful
        yes, no = (1, -1) if helpful else (-1, 1)
    if yes or no:
        session.execute(update(Article).where(Article.id == article.id).values(
            helpful_yes=Article.helpful_yes + yes, helpful_no=Article.helpful_no + no)
            .execution_options(synchronize_session=False))
        session.flush()
        session.refresh(article)
    return article


# --- search -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    snippet_html: str  # escaped text, the matches in <mark>
    score: float


def search_articles(session: Session, workspace_id: uuid.UUID, text: str,
                    language: str | None = None, limit: int = 20) -> list[ArticleHit]:
    """Published articles matching the words, best first, through the search index."""
    words = text.strip()[:MAX_QUERY]
    if not words:
        return []
    hits = index.query(session, workspace_id, words, language=language, limit=limit)
    ids = [hit.ref_id for hit in hits]
    if not ids:
        return []
    rows = {a.id: a for a in session.scalars(select(Article).where(
        Article.workspace_id == workspace_id, Article.id.in_(ids),
        Article.status == ArticleStatus.PUBLISHED,
        *([Article.language == language] if language else [])))}
    return [ArticleHit(rows[hit.ref_id], hit.snippet_html, hit.score)
            for hit in hits if hit.ref_id in rows]


def _like(column: Any, text: str) -> Any:
    words = [w for w in text.lower().split() if w][:8]
    escaped = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in words]
    return or_(*[func.lower(column).like(f"%{w}%", escape="\\") for w in escaped]) \
        if escaped else column.is_not(None)


# --- presentation -----------------------------------------------------------------------------


def article_url(base_url: str, workspace_id: uuid.UUID, article: Article) -> str:
    """The public help-centre address of an article."""
    return (f"{base_url.rstrip('/')}/help/{workspace_id}/{article.language}/articles/"
            f"{article.slug}")


def help_url(base_url: str, workspace_id: uuid.UUID, language: str | None = None) -> str:
    root = f"{base_url.rstrip('/')}/help/{workspace_id}"
    return f"{root}/{language}" if language else root


def render_article_html(markdown_text: str) -> str:
    """Safe HTML of an article's Markdown (docs/knowledge-base.md: what survives)."""
    return markdown.render(markdown_text)


def article_out(article: Article, base_url: str) -> ArticleOut:
    url = article_url(base_url, article.workspace_id, article) \
        if article.status == ArticleStatus.PUBLISHED else None
    return ArticleOut(
        id=article.id, slug=article.slug, title=article.title, body=article.body,
        category=article.category, language=article.language, tags=list(article.tags),
        questions=list(article.questions), status=article.status,  # type: ignore[arg-type]
        views=article.views, helpful_yes=article.helpful_yes, helpful_no=article.helpful_no,
        revision=article.revision, url=url, created_at=article.created_at,
        updated_at=article.updated_at, published_at=article.published_at)

