"""The sampler: the `quality.sample` job picks resolved conversations into the review queue.

Each run looks at the conversations resolved (or closed) since the start of last week (ISO
weeks, UTC), not merged, with an agent to review (the assignee, else the last agent who
answered), and, per workspace in one transaction under its "quality" lock:

1. by rule, the first that matches names the reason: low CSAT (the customer's survey score
   at most the setting), public complaint (started on a public channel, and categorised a
   complaint or negative), reopened, hopped (a channel hop was offered); at most
   `max_rule_reviews_per_agent_week` per agent and week;
2. at random, so that each agent has `random_percent` of the conversations he resolved that
   week (rounded up) in random reviews.

A conversation already in `quality_reviews` is never picked again (the unique index holds it
under races as well). Nobody is ever asked to review his own conversation: the queue hides
them and answering one is refused (quality/reviews.py)."""

from __future__ import annotations

import logging
import math
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation
from threadline.csat.models import CsatSurvey
from threadline.db.base import utcnow
from threadline.db.locks import workspace_lock
from threadline.events.models import OutboxJob
from threadline.events.names import Live
from threadline.events.service import ensure_pending, publish
from threadline.hops.records.models import Hop
from threadline.jobs.registry import Job, handler
from threadline.quality.models import QualityReview, Reason
from threadline.quality.reviews import agent_teams, last_answers, new_review
from threadline.quality.schemas import SamplingSettings
from threadline.quality.scorecards import default_scorecard, sampling_settings
from threadline.workspace.models import Workspace

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.quality")
SAMPLE_JOB = "quality.sample"
QUALITY_LOCK = "quality"
CHUNK = 500
DONE = ("resolved", "closed")
_draw = random.SystemRandom()


def week_of(at: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week of `at`."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


@dataclass
class Candidate:
    id: uuid.UUID
    workspace_id: uuid.UUID
    agent_id: uuid.UUID | None
    team_id: uuid.UUID | None
    origin_channel: str | None
    origin_visibility: str | None
    category: str | None
    sentiment: str | None
    reopen_count: int
    week: datetime
    reviewed: str | None  # the reason of its review, if it has one


# --- the optional CSAT table -------------------------------------------------------------------


def low_csat(session: Session, workspace_id: uuid.UUID, conversation_ids: list[uuid.UUID],
             max_score: int) -> set[uuid.UUID]:
    """Conversations whose customer answered a CSAT survey with at most `max_score`."""
    found: set[uuid.UUID] = set()
    for start in range(0, len(conversation_ids), CHUNK):
        chunk = conversation_ids[start:start + CHUNK]
        found.update(session.scalars(select(CsatSurvey.conversation_id).where(
            CsatSurvey.workspace_id == workspace_id, CsatSurvey.conversation_id.in_(chunk),
            CsatSurvey.score.is_not(None), CsatSurvey.score <= max_score).distinct()))
    return found


# --- one workspace ----------------------------------------------------------------------------


def _candidates(session: Session, workspace_id: uuid.UUID, since: datetime,
                now: datetime) -> list[Candidate]:
    rows = session.execute(
        select(Conversation.id, Conversation.assignee_id, Conversation.team_id,
               Conversation.origin_channel, Conversation.origin_visibility,
               Conversation.category, Conversation.sentiment, Conversation.reopen_count,
               Conversation.resolved_at, QualityReview.reason, QualityReview.agent_id)
        .outerjoin(QualityReview, QualityReview.conversation_id == Conversation.id)
        .where(Conversation.workspace_id == workspace_id, Conversation.status.in_(DONE),
               Conversation.resolved_at >= since, Conversation.resolved_at <= now,
               Conversation.merged_into_id.is_(None))
        .order_by(Conversation.resolved_at, Conversation.id)).all()
    unassigned = [r[0] for r in rows if r[1] is None and r[9] is None]
    answered = last_answers(session, unassigned)
    out = []
    for (conv_id, assignee, team, channel, visibility, category, sentiment, reopens,
         resolved_at, reviewed, reviewed_agent) in rows:
        if resolved_at is None:  # the query asks for a resolution time
            continue
        agent = reviewed_agent if reviewed is not None else (
            assignee or (answered[conv_id][0] if conv_id in answered else None))
        out.append(Candidate(conv_id, workspace_id, agent, team, channel, visibility,
                             category, sentiment, int(reopens or 0), week_of(resolved_at),
                             reviewed))
    return out


def rule_reason(c: Candidate, settings: SamplingSettings, hopped: set[uuid.UUID],
                unhappy: set[uuid.UUID]) -> str | None:
    """The first rule that picks `c` (Reason.RULES order), or None."""
    if settings.low_csat and c.id in unhappy:
        return Reason.LOW_CSAT
    if settings.public_complaint and c.origin_visibility == "public" and (
            c.category == "complaint" or c.sentiment == "negative"):
        return Reason.PUBLIC_COMPLAINT
    if settings.reopened and c.reopen_count > 0:
        return Reason.REOPENED
    if settings.hopped and c.id in hopped:
        return Reason.HOPPED
    return None


def _hopped(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), CHUNK):
        found.update(session.scalars(select(Hop.conversation_id).where(
            Hop.conversation_id.in_(ids[start:start + CHUNK])).distinct()))
    return found


def choose(candidates: list[Candidate], settings: SamplingSettings, hopped: set[uuid.UUID],
           unhappy: set[uuid.UUID], rng: random.Random | None = None,
           ) -> list[tuple[Candidate, str]]:
    """Which unreviewed candidates to pick, and why (pure: the counts of what is already
    reviewed come from the candidates themselves)."""
    rng = rng or _draw
    total: Counter[tuple[uuid.UUID, datetime]] = Counter()
    by_rule: Counter[tuple[uuid.UUID, datetime]] = Counter()
    at_random: Counter[tuple[uuid.UUID, datetime]] = Counter()
    pool: dict[tuple[uuid.UUID, datetime], list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.agent_id is None:
            continue
        key = (c.agent_id, c.week)
        total[key] += 1
        if c.reviewed in Reason.RULES:
            by_rule[key] += 1
        elif c.reviewed == Reason.RANDOM:
            at_random[key] += 1
    picked: list[tuple[Candidate, str]] = []
    for c in candidates:
        if c.agent_id is None or c.reviewed is not None:
            continue
        key = (c.agent_id, c.week)
        reason = rule_reason(c, settings, hopped, unhappy)
        if reason is not None and by_rule[key] < settings.max_rule_reviews_per_agent_week:
            by_rule[key] += 1
            picked.append((c, reason))
        else:
            pool[key].append(c)
    if settings.random_percent > 0:
        for key, count in total.items():
            wanted = math.ceil(count * settings.random_percent / 100) - at_random[key]
            if wanted > 0 and pool[key]:
                for c in rng.sample(pool[key], min(wanted, len(pool[key]))):
                    picked.append((c, Reason.RANDOM))
    return picked


def sample_workspace(session: Session, workspace_id: uuid.UUID,
                     now: datetime | None = None) -> dict[str, int]:
    """Fill the workspace's review queue; returns how many were picked per reason."""
    now = now or utcnow()
    workspace_lock(session, workspace_id, QUALITY_LOCK)
    settings = sampling_settings(session, workspace_id)
    candidates = _candidates(session, workspace_id, week_of(now) - timedelta(days=7), now)
    open_ids = [c.id for c in candidates if c.reviewed is None and c.agent_id is not None]
    counts: dict[str, int] = dict.fromkeys(Reason.ALL, 0)
    if not open_ids:
        return counts
    hopped = _hopped(session, open_ids) if settings.hopped else set()
    unhappy = low_csat(session, workspace_id, open_ids, settings.low_csat_max_score) \
        if settings.low_csat else set()
    picked = choose(candidates, settings, hopped, unhappy)
    if not picked:
        return counts
    card = default_scorecard(session, workspace_id)
    teams = agent_teams(session, workspace_id)
    answered = last_answers(session, [c.id for c, _ in picked])
    for c, reason in picked:
        assert c.agent_id is not None
        last = answered.get(c.id)
        session.add(new_review(c, agent_id=c.agent_id, team_id=c.team_id or teams.get(c.agent_id),
                               channel=last[1] if last else c.origin_channel,
                               scorecard_id=card.id, reason=reason))
        counts[reason] += 1
    session.flush()
    publish(session, workspace_id, Live.QUALITY_QUEUE_CHANGED, {"added": len(picked)})
    return counts


# --- the job ----------------------------------------------------------------------------------


def run_sample(runtime: Runtime, now: datetime | None = None) -> dict[str, Any]:
    """Sample every workspace, one transaction each."""
    with runtime.db.session(write=False) as session:
        workspaces = list(session.scalars(select(Workspace.id).order_by(Workspace.id)))
    totals: dict[str, Any] = {"workspaces": len(workspaces), **dict.fromkeys(Reason.ALL, 0)}
    for workspace_id in workspaces:
        with runtime.db.session() as session:
            for reason, count in sample_workspace(session, workspace_id, now).items():
                totals[reason] += count
    return totals


def schedule_sample(session: Session, *, delay: timedelta = timedelta(0),
                    exclude: int | None = None) -> OutboxJob | None:
    """Make sure one sampling job is pending (a run being executed does not count)."""
    return ensure_pending(session, SAMPLE_JOB, delay=delay, exclude=exclude)


@handler(SAMPLE_JOB)
def sample_job(runtime: Runtime, job: Job) -> None:
    try:
        totals = run_sample(runtime)
        log.info("quality sampling: %s", {k: v for k, v in totals.items() if v})
    finally:
        with runtime.db.session() as session:
            schedule_sample(session, exclude=job.id, delay=timedelta(
                seconds=runtime.settings.quality_sample_seconds))
