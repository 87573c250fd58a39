"""Searching: `search(session, workspace_id, text, ...)` parses the box's text
(`search.syntax`), runs the database's query (`search.backends.run`) and returns hits with
safe HTML highlights. Only the workspace's own documents can be found."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from threadline.search import backends
from threadline.search.highlight import plain, to_html
from threadline.search.models import Kind
from threadline.search.schemas import SearchFilters, SearchHit, SearchResults
from threadline.search.syntax import SearchError, language_code, parse

MAX_LIMIT = 100
MAX_OFFSET = 1_000


def _kinds(kinds: Sequence[str] | None) -> list[str] | None:
    if not kinds:
        return None
    unknown = [k for k in kinds if k not in Kind.ALL]
    if unknown:
        raise SearchError(f"kind must be one of {', '.join(Kind.ALL)}", "search_kind",
                          field="kind")
    return sorted(set(kinds))


def search(session: Session, workspace_id: uuid.UUID, text: str, *,
           kinds: Sequence[str] | None = None, language: str | None = None,
           limit: int = 20, offset: int = 0,
           filters: SearchFilters | None = None) -> SearchResults:
    """The workspace's documents matching `text`, best first. `language` stems the query in
    that language and keeps documents in it (and those with none, like customers). Bad input
    is a `SearchError` (422 with a stable code naming the field)."""
    query = parse(text)
    wanted = _kinds(kinds)
    lang = language_code(language)
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit is 1 to {MAX_LIMIT}", "search_limit", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise SearchError(f"offset is 0 to {MAX_OFFSET}", "search_offset", field="offset")
    chosen = filters or SearchFilters()
    if chosen.created_from and chosen.created_to and chosen.created_from >= chosen.created_to:
        raise SearchError("the date range ends before it starts", "search_dates",
                          field="created_to")
    rows = backends.run(session, workspace_id, query, kinds=wanted, language=lang,
                        filters=chosen, limit=limit + 1, offset=offset)
    hits = [SearchHit(
        kind=r["kind"], ref_id=r["ref_id"], conversation_id=r["conversation_id"],
        customer_id=r["customer_id"], title=r["title"] or "",
        title_html=to_html(r["title_marked"] or ""),
        snippet_html=to_html(r["snippet_marked"] or ""),
        score=float(r["score"] or 0.0), created_at=r["created_at"], language=r["language"],
        channel=r["channel"], visibility=r["visibility"], author_type=r["author_type"])
        for r in rows[:limit]]
    return SearchResults(hits=hits, has_more=len(rows) > limit, limit=limit, offset=offset)


__all__ = ["SearchError", "SearchFilters", "SearchHit", "SearchResults", "plain", "search"]
