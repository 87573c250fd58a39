"""Putting documents into the index and taking them out: the interface other packages use
for the kinds they own (the knowledge base puts kind="article" when it publishes, removes it
when it archives). Threadline's own kinds (conversations, messages, customers) are kept by
`search.indexer`. Like every service function these take a session and never commit: a
document becomes findable when the caller's transaction commits, together with its source.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from threadline.db.base import utcnow
from threadline.errors import ValidationFailed
from threadline.search import backends
from threadline.search.syntax import clean_document_text, language_code

MAX_TITLE_CHARS = 1_000
MAX_BODY_CHARS = 100_000  # well under PostgreSQL's 1 MB tsvector limit
_KIND = re.compile(r"^[a-z][a-z_]{0,15}$")


def _kind(kind: str) -> str:
    if not _KIND.match(kind or ""):
        raise ValidationFailed("a document kind is 1-16 lowercase letters",
                               code="search_kind", details={"field": "kind"})
    return kind


def document_row(workspace_id: uuid.UUID, *, kind: str, ref_id: uuid.UUID, title: str,
                 body: str, language: str | None, conversation_id: uuid.UUID | None = None,
                 customer_id: uuid.UUID | None = None, channel: str | None = None,
                 visibility: str | None = None, author_type: str | None = None,
                 version: str | None = None, created_at: datetime | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    """One row for `backends.write`: text cleaned of control characters and bounded."""
    return {
        "workspace_id": workspace_id, "kind": _kind(kind), "ref_id": ref_id,
        "conversation_id": conversation_id, "customer_id": customer_id,
        "title": clean_document_text(title)[:MAX_TITLE_CHARS],
        "body": clean_document_text(body)[:MAX_BODY_CHARS],
        "language": language_code(language) if language else None,
        "channel": channel, "visibility": visibility, "author_type": author_type,
        "version": version, "created_at": created_at, "indexed_at": now or utcnow(),
    }


def put_document(session: Session, workspace_id: uuid.UUID, *, kind: str, ref_id: uuid.UUID,
                 title: str, body: str, language: str | None,
                 created_at: datetime | None = None) -> None:
    """Index (or re-index) one document of `kind` about `ref_id`: its `title` and `body` as
    they may be shown to the workspace's agents (mask personal data before, it is indexed
    as given), stemmed in `language` (an ISO 639-1 tag; None: no stemming but English's)."""
    backends.write(session, [document_row(
        workspace_id, kind=kind, ref_id=ref_id, title=title, body=body, language=language,
        created_at=created_at)])


def remove_document(session: Session, workspace_id: uuid.UUID, *, kind: str,
                    ref_id: uuid.UUID) -> None:
    """Take the document out of the index (nothing happens when it is not there)."""
    backends.delete(session, workspace_id, _kind(kind), [ref_id])
