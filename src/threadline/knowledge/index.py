"""Articles in the search index (`threadline.search`, decision 0329): put on publish (and on
every save of a published article), removed on archive, queried for the help centre and the
agents' suggestions. The document is what the public may read anyway: the title, the body as
plain text, the example questions and the tags."""

from __future__ import annotations

import inspect
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from threadline.knowledge.markdown import plain_text
from threadline.knowledge.models import Article
from threadline.search import documents
from threadline.search import query as search_query

KIND = "article"


@dataclass(frozen=True)
class Hit:
    ref_id: uuid.UUID
    title: str
    snippet_html: str  # escaped, matches in <mark>
    score: float


def document_body(article: Article) -> str:
    return "\n".join([plain_text(article.body), *article.questions, " ".join(article.tags)])


def put(session: Session, article: Article) -> None:
    documents.put_document(session, article.workspace_id, kind=KIND, ref_id=article.id,
                           title=article.title, body=document_body(article),
                           language=article.language, created_at=article.created_at)


def remove(session: Session, article: Article) -> None:
    documents.remove_document(session, article.workspace_id, kind=KIND, ref_id=article.id)


def any_word_supported() -> bool:
    """Whether the search takes `match="any"` (OR of the words) for keyword queries."""
    return "match" in inspect.signature(search_query.search).parameters


def query(session: Session, workspace_id: uuid.UUID, text: str, *, language: str | None,
          limit: int, any_word: bool = False) -> list[Hit]:
    """Articles matching `text` (the search box's syntax; a `SearchError` for bad input)."""
    extra = {"match": "any"} if any_word and any_word_supported() else {}
    results = search_query.search(session, workspace_id, text, kinds=[KIND],
                                  language=language, limit=limit, **extra)  # type: ignore[arg-type]
    return [Hit(hit.ref_id, hit.title, hit.snippet_html, hit.score)
            for hit in results.hits if hit.kind == KIND]
