"""What the surveys say: the response rate, the average score and the share of satisfied
customers (4 or 5), over a date range and the dashboards' filters; and the surveys behind the
numbers. Read-only; `summary` is what the KPI dashboards call (docs/csat.md#the-numbers).

Definitions (surveys counted by `sent_at` in [since, until)):
    delivered      = sent - failed (answered + expired + still waiting)
    response_rate  = answered / delivered
    average        = mean score of the answered
    satisfied      = answered with 4 or 5 / answered      (the "CSAT %")
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from threadline.channels.registry import kinds
from threadline.conversations.models import Conversation
from threadline.csat.models import CsatSurvey, SurveyStatus
from threadline.errors import ValidationFailed
from threadline.workspace.models import Agent, ChannelAccount, Team

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")
MAX_RANGE = timedelta(days=366)
MAX_LIST = 200


@dataclass(frozen=True)
class Filters:
    since: datetime
    until: datetime
    channel: str | None = None
    channel_account_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Figures:
    sent: int = 0
    answered: int = 0
    expired: int = 0
    failed: int = 0
    waiting: int = 0
    delivered: int = 0
    response_rate: float | None = None
    average: float | None = None
    satisfied: float | None = None
    scores: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))


@dataclass(frozen=True)
class Summary:
    filters: Filters
    total: Figures
    by_channel: dict[str, Figures]


def check_filters(session: Session, workspace_id: uuid.UUID, filters: Filters) -> Filters:
    """A range in the wrong order or over a year, or a filter value this workspace does not
    have, is a typed 422 naming the field."""
    if filters.since.tzinfo is None or filters.until.tzinfo is None:
        raise ValidationFailed("give times with a time zone (e.g. 2025-01-01T00:00:00Z)",
                               code="invalid_range", details={"field": "since"})
    if filters.since >= filters.until:
        raise ValidationFailed("`since` must be before `until`", code="invalid_range",
                               details={"field": "since"})
    if filters.until - filters.since > MAX_RANGE:
        raise ValidationFailed("a range covers at most 366 days", code="range_too_long",
                               details={"field": "until"})
    if filters.channel is not None and filters.channel not in kinds():
        raise ValidationFailed("unknown channel", code="unknown_filter",
                               details={"field": "channel"})
    for name, model, value in (("channel_account_id", ChannelAccount,
                                filters.channel_account_id),
                               ("team_id", Team, filters.team_id),
                               ("agent_id", Agent, filters.agent_id)):
        if value is None:
            continue
        row = session.get(model, value)
        if row is None or getattr(row, "workspace_id", None) != workspace_id:
            raise ValidationFailed(f"unknown {name.removesuffix('_id').replace('_', ' ')}",
                                   code="unknown_filter", details={"field": name})
    return filters


def _scoped(stmt: S, workspace_id: uuid.UUID, filters: Filters) -> S:
    stmt = stmt.where(CsatSurvey.workspace_id == workspace_id,
                      CsatSurvey.sent_at >= filters.since, CsatSurvey.sent_at < filters.until)
    if filters.channel is not None:
        stmt = stmt.where(CsatSurvey.channel == filters.channel)
    if filters.channel_account_id is not None:
        stmt = stmt.where(CsatSurvey.channel_account_id == filters.channel_account_id)
    if filters.team_id is not None or filters.agent_id is not None:
        stmt = stmt.join(Conversation, Conversation.id == CsatSurvey.conversation_id)
        if filters.team_id is not None:
            stmt = stmt.where(Conversation.team_id == filters.team_id)
        if filters.agent_id is not None:
            stmt = stmt.where(Conversation.assignee_id == filters.agent_id)
    return stmt


def _figures(counts: dict[str, int], scores: dict[int, int]) -> Figures:
    sent = sum(counts.values())
    answered = counts.get(SurveyStatus.ANSWERED, 0)
    failed = counts.get(SurveyStatus.FAILED, 0)
    delivered = sent - failed
    rated = sum(scores.values())
    return Figures(
        sent=sent, answered=answered, expired=counts.get(SurveyStatus.EXPIRED, 0),
        failed=failed, waiting=counts.get(SurveyStatus.SENT, 0), delivered=delivered,
        response_rate=round(answered / delivered, 4) if delivered else None,
        average=round(sum(k * v for k, v in scores.items()) / rated, 3) if rated else None,
        satisfied=round((scores.get(4, 0) + scores.get(5, 0)) / rated, 4) if rated else None,
        scores={n: scores.get(n, 0) for n in range(1, 6)})


def summary(session: Session, workspace_id: uuid.UUID, filters: Filters) -> Summary:
    """Two grouped queries whatever the number of surveys (by channel and status, by channel
    and score)."""
    filters = check_filters(session, workspace_id, filters)
    counts: dict[str, dict[str, int]] = {}
    for channel, status, count in session.execute(_scoped(
            select(CsatSurvey.channel, CsatSurvey.status, func.count()), workspace_id, filters)
            .group_by(CsatSurvey.channel, CsatSurvey.status)):
        counts.setdefault(str(channel), {})[str(status)] = int(count)
    scores: dict[str, dict[int, int]] = {}
    for channel, score, count in session.execute(_scoped(
            select(CsatSurvey.channel, CsatSurvey.score, func.count()), workspace_id, filters)
            .where(CsatSurvey.status == SurveyStatus.ANSWERED, CsatSurvey.score.is_not(None))
            .group_by(CsatSurvey.channel, CsatSurvey.score)):
        scores.setdefault(str(channel), {})[int(score or 0)] = int(count)
    total_counts: dict[str, int] = {}
    total_scores: dict[int, int] = {}
    for by_status in counts.values():
        for status, count in by_status.items():
            total_counts[status] = total_counts.get(status, 0) + count
    for by_score in scores.values():
        for score, count in by_score.items():
            total_scores[score] = total_scores.get(score, 0) + count
    return Summary(filters=filters, total=_figures(total_counts, total_scores),
                   by_channel={c: _figures(counts[c], scores.get(c, {}))
                               for c in sorted(counts)})


def surveys(session: Session, workspace_id: uuid.UUID, *, filters: Filters | None = None,
            conversation_id: uuid.UUID | None = None, status: str | None = None,
            limit: int = 50) -> list[CsatSurvey]:
    """The surveys behind a number, newest first (a conversation's, or a range's)."""
    stmt = select(CsatSurvey)
    if filters is not None:
        stmt = _scoped(stmt, workspace_id, check_filters(session, workspace_id, filters))
    else:
        stmt = stmt.where(CsatSurvey.workspace_id == workspace_id)
    if conversation_id is not None:
        stmt = stmt.where(CsatSurvey.conversation_id == conversation_id)
    if status is not None:
        stmt = stmt.where(CsatSurvey.status == status)
    return list(session.scalars(stmt.order_by(CsatSurvey.sent_at.desc(), CsatSurvey.id)
                                .limit(max(1, min(limit, MAX_LIST)))))
