"""The desktop inbox: every conversation with its customer and last message, filtered,
counted and keyset-paginated (three queries per page whatever the size of the workspace)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.privacy import mask, pii_spans
from threadline.db.base import utcnow
from threadline.errors import BadRequest, ValidationFailed

VIEWS: dict[str, tuple[str, ...]] = {
    "active": ("open", "pending"),
    "open": ("open",),
    "pending": ("pending",),
    "snoozed": ("snoozed",),
    "resolved": ("resolved", "closed"),
    "all": Status.ALL,
}
SLA_WINDOWS = {"breached": timedelta(0), "1h": timedelta(hours=1), "4h": timedelta(hours=4),
               "24h": timedelta(hours=24)}


@dataclass(frozen=True)
class InboxFilter:
    view: str = "active"
    channel: str | None = None
    visibility: str | None = None
    category: str | None = None
    priority: int | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    team_id: uuid.UUID | None = None
    label: str | None = None
    sla: str | None = None  # breached | 1h | 4h | 24h
    customer_id: uuid.UUID | None = None
    statuses: tuple[str, ...] | None = None  # overrides `view` (the REST API's ?status=)


@dataclass
class InboxRow:
    conversation: Conversation
    customer_name: str | None
    preview: str = ""
    preview_channel: str | None = None
    preview_visibility: str | None = None
    preview_direction: str | None = None
    channels: list[str] = field(default_factory=list)


def encode_cursor(conv: Conversation) -> str:
    raw = json.dumps([conv.last_message_at.isoformat(), str(conv.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        when, ident = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(when), uuid.UUID(ident)
    except (ValueError, TypeError) as exc:
        raise BadRequest("invalid cursor", code="invalid_cursor") from exc


def _filtered(workspace_id: uuid.UUID, flt: InboxFilter, now: datetime) -> Any:
    if flt.view not in VIEWS:
        raise ValidationFailed(f"view must be one of {', '.join(VIEWS)}", code="bad_view")
    stmt = select(Conversation, Customer.name).outerjoin(
        Customer, Customer.id == Conversation.customer_id).where(
        Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None))
    statuses = VIEWS[flt.view]
    if flt.statuses:
        bad = set(flt.statuses) - set(Status.ALL)
        if bad:
            raise ValidationFailed(f"unknown status: {', '.join(sorted(bad))}")
        statuses = flt.statuses
    if statuses != Status.ALL:
        stmt = stmt.where(Conversation.status.in_(statuses))
    if flt.customer_id:
        stmt = stmt.where(Conversation.customer_id == flt.customer_id)
    if flt.assignee_id:
        stmt = stmt.where(Conversation.assignee_id == flt.assignee_id)
    if flt.unassigned:
        stmt = stmt.where(Conversation.assignee_id.is_(None))
    if flt.team_id:
        stmt = stmt.where(Conversation.team_id == flt.team_id)
    if flt.category:
        stmt = stmt.where(Conversation.category == flt.category)
    if flt.priority is not None:
        stmt = stmt.where(Conversation.priority == flt.priority)
    if flt.sla:
        if flt.sla not in SLA_WINDOWS:
            raise ValidationFailed(f"sla must be one of {', '.join(SLA_WINDOWS)}")
        stmt = stmt.where(Conversation.sla_due_at.is_not(None),
                          Conversation.sla_due_at <= now + SLA_WINDOWS[flt.sla])
    if flt.channel or flt.visibility:
        sub = select(Message.id).where(Message.conversation_id == Conversation.id)
        if flt.channel:
            sub = sub.where(Message.channel == flt.channel)
        if flt.visibility:
            if flt.visibility not in ("public", "private"):
                raise ValidationFailed("visibility must be public or private")
            sub = sub.where(Message.visibility == flt.visibility, Message.kind != "note")
        stmt = stmt.where(sub.exists())
    if flt.label:
        needle = json.dumps(flt.label).replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_")
        stmt = stmt.where(cast(Conversation.labels, String).like(f"%{needle}%", escape="\\"))
    return stmt


def page(session: Session, workspace_id: uuid.UUID, flt: InboxFilter, *, limit: int = 50,
         cursor: str | None = None,
         ) -> tuple[list[tuple[Conversation, str | None]], str | None]:
    """One page of (conversation, customer name), newest activity first; `cursor` continues
    after the last row of the previous page (keyset: as fast at any depth)."""
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit must be between 1 and 200")
    stmt = _filtered(workspace_id, flt, utcnow())
    if cursor:
        when, ident = decode_cursor(cursor)
        stmt = stmt.where(or_(Conversation.last_message_at < when,
                              and_(Conversation.last_message_at == when,
                                   Conversation.id < ident)))
    stmt = stmt.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    found = [(c, name) for c, name in session.execute(stmt.limit(limit + 1)).all()]
    next_cursor = encode_cursor(found[limit - 1][0]) if len(found) > limit else None
    return found[:limit], next_cursor


def list_inbox(session: Session, workspace_id: uuid.UUID, flt: InboxFilter, *,
               limit: int = 50, cursor: str | None = None,
               ) -> tuple[list[InboxRow], str | None]:
    """A page of the inbox with each conversation's last message as preview."""
    found, next_cursor = page(session, workspace_id, flt, limit=limit, cursor=cursor)
    rows = [InboxRow(conversation=c, customer_name=name) for c, name in found]
    _attach_previews(session, rows)
    return rows, next_cursor


def _attach_previews(session: Session, rows: list[InboxRow]) -> None:
    if not rows:
        return
    by_id = {r.conversation.id: r for r in rows}
    last = session.execute(
        select(Message.conversation_id, Message.text, Message.channel, Message.visibility,
               Message.direction, Message.kind, Message.triage)
        .join(Conversation, and_(Conversation.id == Message.conversation_id,
                                 Conversation.last_message_at == Message.created_at))
        .where(Message.conversation_id.in_(list(by_id)))).all()
    for conv_id, text, channel, visibility, direction, kind, triage in last:
        row = by_id[conv_id]
        text = text or ""
        row.preview = mask(text, pii_spans(text, visibility, direction, triage))[:160]
        row.preview_channel = channel
        row.preview_visibility = "note" if kind == "note" else visibility
        row.preview_direction = direction
    for row in rows:
        conv = row.conversation
        row.channels = sorted({c for c in (conv.origin_channel, row.preview_channel)
                               if c and c != "note"})


def counts(session: Session, workspace_id: uuid.UUID,
           agent_id: uuid.UUID | None = None) -> dict[str, int]:
    """Conversations per view, plus the agent's own and the unassigned active ones."""
    grouped = session.execute(
        select(Conversation.status, Conversation.assignee_id, func.count())
        .where(Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None))
        .group_by(Conversation.status, Conversation.assignee_id)).all()
    by_status: dict[str, int] = {}
    mine = unassigned = 0
    for status, assignee, count in grouped:
        by_status[status] = by_status.get(status, 0) + int(count)
        if status in VIEWS["active"]:
            if assignee is None:
                unassigned += int(count)
            elif assignee == agent_id:
                mine += int(count)
    out = {view: sum(by_status.get(s, 0) for s in statuses)
           for view, statuses in VIEWS.items()}
    out["mine"] = mine
    out["unassigned"] = unassigned
    return out


def facets(session: Session, workspace_id: uuid.UUID) -> dict[str, list[str]]:
    """Values to offer in the filter menus: categories and labels seen in recent work."""
    categories = sorted(c for c in session.scalars(
        select(Conversation.category).where(Conversation.workspace_id == workspace_id,
                                            Conversation.category.is_not(None))
        .order_by(Conversation.last_message_at.desc()).limit(500)).all() if c)
    labels: set[str] = set()
    for value in session.scalars(
            select(Conversation.labels).where(Conversation.workspace_id == workspace_id)
            .order_by(Conversation.last_message_at.desc()).limit(500)):
        labels.update(str(v) for v in (value or []))
    return {"categories": sorted(set(categories)), "labels": sorted(labels)}


def neighbours(session: Session, workspace_id: uuid.UUID, conv: Conversation,
               flt: InboxFilter) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The conversations before and after `conv` in the inbox order (for j/k)."""
    base = _filtered(workspace_id, flt, utcnow()).with_only_columns(Conversation.id)
    newer = session.scalar(base.where(or_(
        Conversation.last_message_at > conv.last_message_at,
        and_(Conversation.last_message_at == conv.last_message_at, Conversation.id > conv.id)))
        .order_by(Conversation.last_message_at.asc(), Conversation.id.asc()).limit(1))
    older = session.scalar(base.where(or_(
        Conversation.last_message_at < conv.last_message_at,
        and_(Conversation.last_message_at == conv.last_message_at, Conversation.id < conv.id)))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1))
    return newer, older
