"""REST: full-text search over the workspace's articles, conversations, messages and
customers (docs/search.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from threadline.schema_types import ChannelKind, ConversationStatus
from threadline.search.query import MAX_LIMIT, MAX_OFFSET, search
from threadline.search.schemas import SearchFilters, SearchHit
from threadline.search.syntax import MAX_QUERY_CHARS
from threadline.web.contract import errors
from threadline.web.deps import Principal, ReadSession, current_principal

router = APIRouter(prefix="/search", tags=["search"])

SearchKind = Literal["article", "conversation", "message", "customer"]


class SearchHitOut(BaseModel):
    kind: SearchKind
    ref_id: uuid.UUID = Field(description="The article's, conversation's, message's or "
                              "customer's id.")
    conversation_id: uuid.UUID | None = Field(description="A message's conversation.")
    customer_id: uuid.UUID | None
    title: str = Field(description="Plain text: escape it before showing it.")
    title_html: str = Field(description="The title HTML-escaped, matches in <mark>.")
    snippet_html: str = Field(description="An excerpt HTML-escaped, matches in <mark>; "
                              "personal data posted in public stays masked.")
    score: float = Field(description="Relevance, higher is better (comparable within one "
                         "search only).")
    created_at: datetime | None
    language: str | None
    channel: str | None
    visibility: str | None = Field(description="Messages: public, private or note.")
    author_type: str | None = Field(description="Messages: customer, agent, automation...")


class SearchPage(BaseModel):
    items: list[SearchHitOut]
    has_more: bool
    limit: int
    offset: int


def hit_out(hit: SearchHit) -> SearchHitOut:
    return SearchHitOut.model_validate(hit, from_attributes=True)


@router.get("", response_model=SearchPage, responses=errors())
def search_workspace(
    principal: Annotated[Principal, Depends(current_principal)],
    session: ReadSession,
    q: Annotated[str, Query(description=(
        f"Words (all must match, stemmed), \"a phrase\", a prefix* or -a word to leave "
        f"out; at most {MAX_QUERY_CHARS} characters. Empty, too long or malformed: 422 "
        "with code search_empty, search_too_long, search_syntax, search_bad_character, "
        "search_too_many_terms or search_only_exclusions."))] = "",
    kind: Annotated[list[SearchKind] | None, Query(description=(
        "Only these kinds (repeat the parameter for several)."))] = None,
    language: Annotated[str | None, Query(max_length=16, description=(
        "The query's language (ISO 639-1, like en or fr): stems in it and keeps documents "
        "in it and those without one (customers). Not a language tag: 422 "
        "search_language."))] = None,
    channel: ChannelKind | None = None,
    status: Annotated[ConversationStatus | None, Query(description=(
        "Conversations and messages whose conversation has this status now."))] = None,
    assignee_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    conversation_id: uuid.UUID | None = None,
    created_from: AwareDatetime | None = None,
    created_to: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SearchPage:
    """Full-text search, best match first. Agents' private notes are included (every token
    belongs to the workspace's own staff); another workspace's documents are never found."""
    filters = SearchFilters(channel=channel, status=status, assignee_id=assignee_id,
                            team_id=team_id, customer_id=customer_id,
                            conversation_id=conversation_id, created_from=created_from,
                            created_to=created_to)
    results = search(session, principal.workspace_id, q, kinds=kind, language=language,
                     limit=limit, offset=offset, filters=filters)
    return SearchPage(items=[hit_out(h) for h in results.hits], has_more=results.has_more,
                      limit=results.limit, offset=results.offset)
