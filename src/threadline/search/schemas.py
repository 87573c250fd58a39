"""What a search returns, and the filters it takes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SearchFilters:
    """Optional narrowing. Conversation filters (status, assignee, team) apply to
    conversations and their messages, read live from the conversation; a search with one of
    them finds no articles or customers."""

    channel: str | None = None
    status: str | None = None
    assignee_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    conversation_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    include_notes: bool = True  # agents' private notes (agents of the workspace only)

    @property
    def needs_conversation(self) -> bool:
        return any(v is not None for v in (self.status, self.assignee_id, self.team_id))


@dataclass(frozen=True)
class SearchHit:
    kind: str  # article | conversation | message | customer
    ref_id: uuid.UUID
    conversation_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    title: str  # plain text (escape it when rendering)
    title_html: str  # escaped, matches in <mark>
    snippet_html: str  # escaped, matches in <mark>
    score: float  # higher is better
    created_at: datetime | None
    language: str | None = None
    channel: str | None = None
    visibility: str | None = None
    author_type: str | None = None


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit] = field(default_factory=list)
    has_more: bool = False
    limit: int = 20
    offset: int = 0
