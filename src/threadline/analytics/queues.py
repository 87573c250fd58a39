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
class AgentLoad:
    agent: Agent
    active: int
    open: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.active / self.agent.capacity)) \
            if self.agent.capacity else 0


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


def agent_load(session: Session, workspace_id: uuid.UUID) -> list[AgentLoad]:
    agents = list(session.scalars(select(Agent).where(Agent.workspace_id == workspace_id,
                                                      Agent.active.is_(True))))
    rows = session.execute(
        select(Conversation.assignee_id, Conversation.status, func.count())
        .where(*_active(workspace_id), Conversation.assignee_id.is_not(None))
        .group_by(Conversation.assignee_id, Conversation.status)).all()
    load: dict[uuid.UUID, dict[str, int]] = {}
    for agent_id, status, count in rows:
        if agent_id is not None:
            load.setdefault(agent_id, {})[status] = int(count)
    out = [AgentLoad(agent=a, active=sum(load.get(a.id, {}).values()),
                     open=load.get(a.id, {}).get(Status.OPEN, 0)) for a in agents]
    return sorted(out, key=lambda x: (-x.active, x.agent.name))


def nearest_sla(session: Session, workspace_id: uuid.UUID, *, limit: int = 20,
                now: datetime | None = None) -> list[SlaRow]:
    now = now or utcnow()
    agents = {a.id: a.name for a in session.scalars(select(Agent).where(
        Agent.workspace_id == workspace_id))}
    rows = session.execute(
        select(Conversation, Customer.name)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .where(*_active(workspace_id), Conversation.sla_due_at.is_not(None))
        .order_by(Conversation.sla_due_at).limit(limit)).all()
    return [SlaRow(conversation=c, customer_name=name,
                   assignee=agents.get(c.assignee_id) if c.assignee_id else None,
                   due_in_minutes=round((c.sla_due_at - now).total_seconds() / 60)
                   if c.sla_due_at else 0) for c, name in rows]
