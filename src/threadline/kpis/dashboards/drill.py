"""The conversations behind a number: the filtered facts, newest first, a page at a time
(keyset on (opened_at, conversation_id): index ix_conversation_facts_keyset)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from threadline.errors import ValidationFailed
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.schemas import FactsPage, FactsRow
from threadline.kpis.models import ConversationFacts

F = ConversationFacts
PAGE = 50
MAX_PAGE = 500


def encode_cursor(opened_at: datetime, conversation_id: uuid.UUID) -> str:
    raw = f"{opened_at.isoformat()}|{conversation_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    bad = ValidationFailed("cursor: not a cursor this list gave", code="bad_cursor",
                           details={"field": "cursor"})
    if len(cursor) > 120:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, _, key = raw.partition("|")
        at = datetime.fromisoformat(when)
        if at.tzinfo is None:
            raise ValueError
        return at, uuid.UUID(hex=key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None


def facts_page(session: Session, filters: Filters, *, cursor: str | None = None,
               limit: int = PAGE) -> tuple[list[ConversationFacts], str | None]:
    """One page of the filtered conversations' facts and the cursor of the next."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit: 1 to {MAX_PAGE}", code="invalid_filter",
                               details={"field": "limit"})
    stmt = select(F).where(*filters.conditions())
    if cursor:
        at, key = decode_cursor(cursor)
        stmt = stmt.where(F.opened_at <= at, or_(F.opened_at < at, and_(
            F.opened_at == at, F.conversation_id < key)))
    rows = list(session.scalars(stmt.order_by(F.workspace_id.desc(), F.opened_at.desc(),
                                              F.conversation_id.desc()).limit(limit + 1)))
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        following = encode_cursor(rows[-1].opened_at, rows[-1].conversation_id)
    return rows, following


def as_page(rows: list[ConversationFacts], following: str | None) -> FactsPage:
    return FactsPage(items=[FactsRow.model_validate(r, from_attributes=True) for r in rows],
                     next_cursor=following)
