"""QA scores for the KPI dashboards and the API: reviews done in a date range, by agent, team
and channel. Read-only; the dashboards call `qa_scores`."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from threadline.errors import ValidationFailed
from threadline.quality.models import QualityReview, ReviewStatus
from threadline.quality.rules import two_decimals
from threadline.quality.schemas import QaScores, ScoreGroup
from threadline.workspace.models import Agent, Team

MAX_RANGE = timedelta(days=366)
NONE_NAMES = {"agent": "no agent", "team": "no team", "channel": "no channel"}


def check_range(start: datetime, end: datetime) -> None:
    """A typed 422 for a range that is naive, empty, reversed or longer than a year."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("start and end need a time zone (UTC: ...Z)",
                               code="invalid_range", details={"field": "start"})
    if end <= start:
        raise ValidationFailed("end must be after start", code="invalid_range",
                               details={"field": "end"})
    if end - start > MAX_RANGE:
        raise ValidationFailed("a range is at most 366 days", code="range_too_long",
                               details={"field": "end"})


def _group(row: Any, key: str | None, name: str) -> ScoreGroup:
    reviews, scored, average = row
    return ScoreGroup(key=key, name=name, reviews=int(reviews or 0), scored=int(scored or 0),
                      average=two_decimals(float(average)) if average is not None else None)


def qa_scores(session: Session, workspace_id: uuid.UUID, start: datetime, end: datetime, *,
              agent_ids: Collection[uuid.UUID] | None = None,
              team_ids: Collection[uuid.UUID] | None = None,
              channels: Collection[str] | None = None) -> QaScores:
    """QA scores of the reviews done in [start, end) (by `reviewed_at`, aware datetimes),
    optionally only of some agents, teams or channels (each filter: any of its values).

    Returns the overall figures and one `ScoreGroup` per agent, team and channel that has
    reviews (`key` the agent or team id as text, or the channel; None for reviews without
    one), each with `reviews` (done), `scored` (with a score: not every answer n.a.) and
    `average` (mean score 0-100 over the scored ones, rounded half up to two decimals;
    None when none). Groups
    are sorted by name. Raises ValidationFailed (422) for a bad range (check_range).
    Four grouped queries and two for names, whatever the number of reviews."""
    check_range(start, end)
    where: list[ColumnElement[bool]] = [
        QualityReview.workspace_id == workspace_id, QualityReview.status == ReviewStatus.DONE,
        QualityReview.reviewed_at >= start, QualityReview.reviewed_at < end]
    if agent_ids is not None:
        where.append(QualityReview.agent_id.in_(list(agent_ids)))
    if team_ids is not None:
        where.append(QualityReview.team_id.in_(list(team_ids)))
    if channels is not None:
        where.append(QualityReview.channel.in_(list(channels)))
    figures = (func.count(QualityReview.id), func.count(QualityReview.score),
               func.avg(QualityReview.score))
    overall = session.execute(select(*figures).where(*where)).one()

    def grouped(by: InstrumentedAttribute[Any]) -> list[Any]:
        return list(session.execute(select(by, *figures).where(*where).group_by(by)).all())

    by_agent, by_team, by_channel = (grouped(QualityReview.agent_id),
                                     grouped(QualityReview.team_id),
                                     grouped(QualityReview.channel))
    agent_names = _names(session, Agent, workspace_id, [r[0] for r in by_agent])
    team_names = _names(session, Team, workspace_id, [r[0] for r in by_team])

    def groups(rows: list[Any], names: dict[Any, str], kind: str) -> list[ScoreGroup]:
        out = [_group(r[1:], str(r[0]) if r[0] is not None else None,
                      names.get(r[0], str(r[0])) if r[0] is not None else NONE_NAMES[kind])
               for r in rows]
        return sorted(out, key=lambda g: (g.key is None, g.name.lower(), g.key or ""))

    return QaScores(start=start, end=end, overall=_group(overall, None, "all"),
                    by_agent=groups(by_agent, agent_names, "agent"),
                    by_team=groups(by_team, team_names, "team"),
                    by_channel=groups(by_channel, {}, "channel"))


def _names(session: Session, model: Any, workspace_id: uuid.UUID,
           ids: list[Any]) -> dict[Any, str]:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(
        model.workspace_id == workspace_id, model.id.in_(ids))).all())  # type: ignore[arg-type]
