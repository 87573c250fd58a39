"""Supervisor views: queue sizes per team and channel, agents' load, the conversations
nearest to an SLA breach. Read-only over the domains."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from threadline.contacts.models import Customer
from threadline.conversations.models import Conversation, Status
from threadline.db.base import utcnow
from threadline.workspace.models import Agent, Team

ACTIVE = Status.ACTIVE


@dataclass
class QueueCell:
    team: str
    channel: str
    open: int
    pending: int
    snoozed: int
    unassigned: int

    @property
    def total(self) -> int:
        return self.open + self.pending + self.snoozed


@dataclass
class SlaRow:
    conversation: Conversation
    customer_name: str | None
    assignee: str | None
    due_in_minutes: int


def _active(workspace_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [Conversation.workspace_id == workspace_id, Conversation.merged_into_id.is_(None),
            Conversation.status.in_(ACTIVE)]


def queues(session: Session, workspace_id: uuid.UUID) -> list[QueueCell]:
    teams = {t.id: t.name for t in session.scalars(select(Team).where(
        Team.workspace_id == workspace_id))}
    rows = session.execute(
        select(Conversation.team_id, Conversation.origin_channel, Conversation.status,
               Conversation.assignee_id.is_(None), func.count())
        .where(*_active(workspace_id))
        .group_by(Conversation.team_id, Conversation.origin_channel, Conversation.status,
                  Conversation.assignee_id.is_(None))).all()
    cells: dict[tuple[str, str], QueueCell] = {}
    for team_id, channel, status, unassigned, count in rows:
        key = (teams.get(team_id, "No team") if team_id else "No team", channel or "unknown")
        cell = cells.setdefault(key, QueueCell(key[0], key[1], 0, 0, 0, 0))
        setattr(cell, status, getattr(cell, status) + int(count))
        if unassigned:
            cell.unassigned += int(count)
    return sorted(cells.values(), key=lambda c: (-c.total, c.team, c.channel))


def nearest_sla(session: Session, workspace_id: uuid.UUID, *, limit: int = 20,
                now: datetime | None = None) -> list[SlaRow]:
    now = now or utcnow()
    agents = {a.id: a.name for a in session.scalars(select(Agent).where(
        Agent.workspace_id == workspace_id))}
    # The first `limit` of each active status, read in order from the agents' queue index
    # (workspace, status, due time), then merged: no sort of every open conversation.
    ids = sorted((due, conv_id) for status in ACTIVE for conv_id, due in session.execute(
        select(Conversation.id, Conversation.sla_due_at)
        .where(Conversation.workspace_id == workspace_id, Conversation.status == status,
               Conversation.sla_due_at.is_not(None), Conversation.merged_into_id.is_(None))
        .order_by(Conversation.sla_due_at).limit(limit)))[:limit]
    found = {c.id: (c, name) for c, name in session.execute(
        select(Conversation, Customer.name)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.id.in_([conv_id for _, conv_id in ids])))}
    rows = [found[conv_id] for _, conv_id in ids if conv_id in found]
    return [SlaRow(conversation=c, customer_name=name,
                   assignee=agents.get(c.assignee_id) if c.assignee_id else None,
                   due_in_minutes=round((c.sla_due_at - now).total_seconds() / 60)
                   if c.sla_due_at else 0) for c, name in rows]
