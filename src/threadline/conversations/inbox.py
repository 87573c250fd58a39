"""The desktop inbox: every conversation with its customer and last message, filtered,
counted and keyset-paginated (three queries per page whatever the size of the workspace).
The order and the relevance views are the queue's (conversations/queue.py)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer
from threadline.conversations import queue
from threadline.conversations.models import Conversation, Message, Status
from threadline.conversations.privacy import mask, pii_spans
from threadline.conversations.queue import QUEUE_RELEVANCE, RELEVANCE_VIEWS, Relevance
from threadline.db.base import utcnow
from threadline.errors import ValidationFailed

VIEWS: dict[str, tuple[str, ...]] = {
    "active": ("open", "pending"),
    "open": ("open",),
    "pending": ("pending",),
    "snoozed": ("snoozed",),
    "resolved": ("resolved", "closed"),
    "all": Status.ALL,
    # awareness mentions, competitor mentions and chatter: never in the queue, in their views
    "mentions": ("open", "pending"),
    "competitors": ("open", "pending"),
    "chatter": ("open", "pending"),
}
# `relevance=`: the queue's (direct questions, private messages, untriaged), every one, or one
RELEVANCE_FILTERS = ("queue", "all", *Relevance.ALL)
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
    relevance: str | None = None  # one of RELEVANCE_FILTERS; None: the view's
    sort: str = "queue"  # queue | recent (conversations/queue.py)

    def relevances(self) -> tuple[str | None, ...] | None:
        """The relevances shown (None: every one)."""
        chosen = self.relevance or RELEVANCE_VIEWS.get(self.view, "queue")
        if chosen not in RELEVANCE_FILTERS:
            raise ValidationFailed(f"relevance must be one of {', '.join(RELEVANCE_FILTERS)}",
                                   code="bad_relevance", details={"field": "relevance"})
        if chosen == "all":
            return None
        return QUEUE_RELEVANCE if chosen == "queue" else (chosen,)


@dataclass
class InboxRow:
    conversation: Conversation
    customer_name: str | None
    preview: str = ""
    preview_channel: str | None = None
    preview_visibility: str | None = None
    preview_direction: str | None = None
    channels: list[str] = field(default_factory=list)


def _statuses(flt: InboxFilter) -> tuple[str, ...]:
    if flt.view not in VIEWS:
        raise ValidationFailed(f"view must be one of {', '.join(VIEWS)}", code="bad_view",
                               details={"field": "view"})
    if flt.statuses:
        bad = set(flt.statuses) - set(Status.ALL)
        if bad:
            raise ValidationFailed(f"unknown status: {', '.join(sorted(bad))}")
        return tuple(dict.fromkeys(flt.statuses))
    return VIEWS[flt.view]


def _conditions(workspace_id: uuid.UUID, flt: InboxFilter, now: datetime) -> list[Any]:
    """The filter's conditions on conversations, except the status."""
    queue.check_sort(flt.sort)
    where: list[Any] = [Conversation.workspace_id == workspace_id,
                        Conversation.merged_into_id.is_(None)]
    if flt.customer_id:
        where.append(Conversation.customer_id == flt.customer_id)
    if flt.assignee_id:
        where.append(Conversation.assignee_id == flt.assignee_id)
    if flt.unassigned:
        where.append(Conversation.assignee_id.is_(None))
    if flt.team_id:
        where.append(Conversation.team_id == flt.team_id)
    if flt.category:
        where.append(Conversation.category == flt.category)
    relevances = flt.relevances()
    if relevances is not None:
        where.append(queue.relevance_clause(relevances))
    if flt.priority is not None:
        queue.check_priority(flt.priority)
        where.append(Conversation.priority == flt.priority)
    if flt.sla:
        if flt.sla not in SLA_WINDOWS:
            raise ValidationFailed(f"sla must be one of {', '.join(SLA_WINDOWS)}")
        where += [Conversation.sla_due_at.is_not(None),
                  Conversation.sla_due_at <= now + SLA_WINDOWS[flt.sla]]
    if flt.channel or flt.visibility:
        sub = select(Message.id).where(Message.conversation_id == Conversation.id)
        if flt.channel:
            sub = sub.where(Message.channel == flt.channel)
        if flt.visibility:
            if flt.visibility not in ("public", "private"):
                raise ValidationFailed("visibility must be public or private")
            sub = sub.where(Message.visibility == flt.visibility, Message.kind != "note")
        where.append(sub.exists())
    if flt.label:
        needle = json.dumps(flt.label).replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_")
        where.append(cast(Conversation.labels, String).like(f"%{needle}%", escape="\\"))
    return where


def _filtered(workspace_id: uuid.UUID, flt: InboxFilter, now: datetime) -> Any:
    statuses = _statuses(flt)
    stmt = select(Conversation, Customer.name).outerjoin(
        Customer, Customer.id == Conversation.customer_id).where(
        *_conditions(workspace_id, flt, now))
    if statuses != Status.ALL:
        stmt = stmt.where(Conversation.status.in_(statuses))
    return stmt


def _ranked(flt: InboxFilter) -> bool:
    """Whether the rows listed differ in relevance rank (else the key is left out)."""
    relevances = flt.relevances()
    return relevances is None or len({queue.rank_of(r) for r in relevances}) > 1


def _in_order(workspace_id: uuid.UUID, flt: InboxFilter, values: tuple[Any, ...] | None,
              limit: int, *, reverse: bool = False) -> Any:
    """The filter's first `limit` rows after (`reverse`: before) the sort values, ordered.
    The queue order reads its candidates from the queue index, one branch per status and
    due/no due time (queue.candidates), and orders only those."""
    now = utcnow()
    stmt = _filtered(workspace_id, flt, now)
    if flt.sort == "queue":
        stmt = stmt.where(Conversation.id.in_(queue.candidates(
            _conditions(workspace_id, flt, now), _statuses(flt), values, limit,
            ranked=_ranked(flt), reverse=reverse)))
    elif values is not None:
        stmt = stmt.where(queue.seek(flt.sort, values, later=not reverse))
    return stmt.order_by(*queue.order_by(flt.sort, reverse=reverse)).limit(limit)


def page(session: Session, workspace_id: uuid.UUID, flt: InboxFilter, *, limit: int = 50,
         cursor: str | None = None,
         ) -> tuple[list[tuple[Conversation, str | None]], str | None]:
    """One page of (conversation, customer name) in the filter's order (the queue's by
    default); `cursor` continues after the last row of the previous page (keyset: as fast at
    any depth, and no row lost or repeated while rows keep their sort values)."""
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit must be between 1 and 200")
    values = queue.decode_cursor(flt.sort, cursor) if cursor else None
    stmt = _in_order(workspace_id, flt, values, limit + 1)
    found = [(c, name) for c, name in session.execute(stmt).all()]
    next_cursor = (queue.encode_cursor(flt.sort, found[limit - 1][0]) if len(found) > limit
                   else None)
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
    """Conversations per view (the status views count the queue's relevances, the mention
    views their own), plus the agent's own and the unassigned ones in the active queue."""
    grouped = session.execute(
        select(Conversation.status, Conversation.assignee_id, Conversation.relevance,
               func.count())
        .where(Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None))
        .group_by(Conversation.status, Conversation.assignee_id, Conversation.relevance)).all()
    by_status: dict[str, int] = {}
    by_relevance: dict[str | None, int] = {}
    mine = unassigned = 0
    for status, assignee, relevance, count in grouped:
        if relevance not in QUEUE_RELEVANCE:
            if status in VIEWS["active"]:
                by_relevance[relevance] = by_relevance.get(relevance, 0) + int(count)
            continue
        by_status[status] = by_status.get(status, 0) + int(count)
        if status in VIEWS["active"]:
            if assignee is None:
                unassigned += int(count)
            elif assignee == agent_id:
                mine += int(count)
    out = {view: sum(by_status.get(s, 0) for s in statuses)
           for view, statuses in VIEWS.items() if view not in RELEVANCE_VIEWS}
    out.update({view: by_relevance.get(relevance, 0)
                for view, relevance in RELEVANCE_VIEWS.items()})
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
    values = queue.sort_values(flt.sort, conv)
    before = session.execute(_in_order(workspace_id, flt, values, 1, reverse=True)).first()
    after = session.execute(_in_order(workspace_id, flt, values, 1)).first()
    return (before[0].id if before else None), (after[0].id if after else None)
