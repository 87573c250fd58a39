"""Reading the CSAT surveys (`csat_surveys`) and the quality reviews (`quality_reviews`).

Both tables are written by other parts of Threadline (csat/, quality/); this module is the only
place the dashboards touch them, through SQLAlchemy Core over their models' tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from threadline.csat.models import CsatSurvey
from threadline.kpis.dashboards.filters import Filters
from threadline.kpis.dashboards.stats import day_of
from threadline.kpis.models import ConversationFacts
from threadline.quality.models import QualityReview

F = ConversationFacts
CSAT = CsatSurvey.__table__
QUALITY = QualityReview.__table__


def answered_with(workspace_id: uuid.UUID, score: int) -> ColumnElement[bool]:
    """The conversation has a survey answered with this score."""
    return exists().where(CSAT.c.conversation_id == F.conversation_id,
                          CSAT.c.workspace_id == workspace_id, CSAT.c.status == "answered",
                          CSAT.c.score == score)


@dataclass
class SurveyCounts:
    sent: int = 0  # every survey that went out (answered, expired and still waiting ones)
    answered: int = 0
    score_total: int = 0
    satisfied: int = 0  # answered 4 or 5
    scores: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))

    def add(self, status: str, score: int | None, count: int) -> None:
        if status == "failed":
            return
        self.sent += count
        if status == "answered" and score is not None and 1 <= score <= 5:
            self.answered += count
            self.score_total += score * count
            self.scores[score] += count
            self.satisfied += count if score >= 4 else 0

    @property
    def average(self) -> float | None:
        return round(self.score_total / self.answered, 2) if self.answered else None


@dataclass
class Csat:
    total: SurveyCounts
    by_channel: dict[str, SurveyCounts]
    by_day: dict[str, tuple[int, float | None]]  # day -> (answered, average score)


def csat(session: Session, filters: Filters, *, per_day: bool = True) -> Csat:
    """The surveys of the filtered conversations: counts by status and score, per channel
    the survey went out on, and (`per_day`) the answers per day the conversation opened."""
    joined = CSAT.join(F, F.conversation_id == CSAT.c.conversation_id)
    where = [CSAT.c.workspace_id == filters.workspace_id, *filters.conditions()]
    total = SurveyCounts()
    by_channel: dict[str, SurveyCounts] = {}
    for channel, status, score, count in session.execute(
            select(CSAT.c.channel, CSAT.c.status, CSAT.c.score, func.count())
            .select_from(joined).where(*where)
            .group_by(CSAT.c.channel, CSAT.c.status, CSAT.c.score)):
        total.add(status, score, count)
        by_channel.setdefault(str(channel or "unknown"), SurveyCounts()).add(status, score,
                                                                             count)
    if not per_day:
        return Csat(total, by_channel, {})
    day = day_of(F.opened_at)
    by_day = {str(d): (int(n), round(float(a), 2) if a is not None else None)
              for d, n, a in session.execute(
                  select(day, func.count(), func.avg(CSAT.c.score)).select_from(joined)
                  .where(*where, CSAT.c.status == "answered").group_by(day))}
    return Csat(total, by_channel, by_day)


@dataclass
class QaScores:
    reviews: int
    average: float | None
    by_agent: list[tuple[str, int, float]]  # (agent id, reviews, average score)
    by_team: list[tuple[str, int, float]]
    by_channel: list[tuple[str, int, float]]


def qa_scores(session: Session, filters: Filters) -> QaScores:
    """Finished quality reviews of the filtered conversations: the average score (0-100)
    overall and by the agent reviewed, his team and the channel."""
    rows = session.execute(
        select(QUALITY.c.agent_id, QUALITY.c.team_id, QUALITY.c.channel, func.count(),
               func.sum(QUALITY.c.score))
        .select_from(QUALITY.join(F, F.conversation_id == QUALITY.c.conversation_id))
        .where(QUALITY.c.workspace_id == filters.workspace_id, QUALITY.c.status == "done",
               QUALITY.c.score.is_not(None), *filters.conditions())
        .group_by(QUALITY.c.agent_id, QUALITY.c.team_id, QUALITY.c.channel)).all()
    sums: dict[str, dict[str, list[float]]] = {"agent": {}, "team": {}, "channel": {}}
    reviews, total = 0, 0.0
    for agent, team, channel, count, score in rows:
        reviews += int(count)
        total += float(score or 0.0)
        for kind, key in (("agent", agent), ("team", team), ("channel", channel)):
            entry = sums[kind].setdefault(str(key) if key is not None else "", [0, 0.0])
            entry[0] += int(count)
            entry[1] += float(score or 0.0)

    def listed(kind: str) -> list[tuple[str, int, float]]:
        return sorted(((k, int(n), round(s / n, 1)) for k, (n, s) in sums[kind].items() if n),
                      key=lambda r: -r[1])

    return QaScores(reviews, round(total / reviews, 1) if reviews else None,
                    listed("agent"), listed("team"), listed("channel"))
