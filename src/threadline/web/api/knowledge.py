"""REST: knowledge-base articles. Every token reads; supervisors and admins write (create,
update, publish, archive). Invalid input is a 422 naming the field and stores nothing (an
unknown language too); another workspace's ids are 404; a slug already used in the same
language is 409."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from threadline.errors import Conflict, NotFound
from threadline.knowledge import service
from threadline.knowledge.schemas import ArticleIn, ArticleList, ArticleOut, ArticleStatusName
from threadline.web.contract import errors
from threadline.web.deps import Principal, ReadSession, WriteSession, current_principal, supervisor

router = APIRouter(tags=["knowledge base"])
Editor = Annotated[Principal, Depends(supervisor)]
Anyone = Annotated[Principal, Depends(current_principal)]


def base_url(request: Request) -> str:
    public: str | None = request.app.state.runtime.settings.public_url
    return public or str(request.base_url)


@router.get("/articles", response_model=ArticleList, responses=errors())
def list_articles(request: Request, principal: Anyone, session: ReadSession,
                  status: ArticleStatusName | None = None,
                  language: Annotated[str | None, Query(max_length=16)] = None,
                  category: Annotated[str | None, Query(max_length=80)] = None,
                  q: Annotated[str | None, Query(max_length=200,
                                                 description="Words of the title")] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 200) -> ArticleList:
    """The workspace's articles, the most recently changed first (`url`: the public
    help-centre page of a published one)."""
    rows = service.list_articles(session, principal.workspace_id, status=status,
                                 language=language, category=category, text=q, limit=limit)
    base = base_url(request)
    return ArticleList(items=[service.article_out(a, base) for a in rows])


@router.post("/articles", response_model=ArticleOut, status_code=201,
             responses=errors(Conflict, role=True))
def create_article(body: ArticleIn, request: Request, principal: Editor,
                   session: WriteSession) -> ArticleOut:
    """A new draft (revision 1). `slug` is derived from the title when absent."""
    article = service.save_article(session, principal.workspace_id, body, principal.actor)
    return service.article_out(article, base_url(request))


@router.get("/articles/{article_id}", response_model=ArticleOut, responses=errors(NotFound))
def get_article(article_id: uuid.UUID, request: Request, principal: Anyone,
                session: ReadSession) -> ArticleOut:
    article = service.get_article(session, principal.workspace_id, article_id)
    return service.article_out(article, base_url(request))


@router.put("/articles/{article_id}", response_model=ArticleOut,
            responses=errors(NotFound, Conflict, role=True))
def update_article(article_id: uuid.UUID, body: ArticleIn, request: Request,
                   principal: Editor, session: WriteSession) -> ArticleOut:
    """The article's new text as its next revision (a published article stays published
    with it)."""
    article = service.save_article(session, principal.workspace_id, body, principal.actor,
                                   article_id=article_id)
    return service.article_out(article, base_url(request))


@router.post("/articles/{article_id}/publish", response_model=ArticleOut,
             responses=errors(NotFound, role=True))
def publish_article(article_id: uuid.UUID, request: Request, principal: Editor,
                    session: WriteSession) -> ArticleOut:
    """Public in the help centre and searchable."""
    article = service.publish_article(session, principal.workspace_id, article_id,
                                      principal.actor)
    return service.article_out(article, base_url(request))


@router.post("/articles/{article_id}/archive", response_model=ArticleOut,
             responses=errors(NotFound, role=True))
def archive_article(article_id: uuid.UUID, request: Request, principal: Editor,
                    session: WriteSession) -> ArticleOut:
    """Out of the help centre and of search; the text and revisions are kept."""
    article = service.archive_article(session, principal.workspace_id, article_id,
                                      principal.actor)
    return service.article_out(article, base_url(request))
