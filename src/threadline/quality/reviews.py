"""Reviews: who handled a conversation, adding one to the queue by hand, reading the queue and
one's own reviews, and answering a review (the weighted score). Services never commit.

Who may see what: supervisors and admins every review of the workspace; an agent only his
own reviews once done (a pending review of his, or anyone else's, is a 404 to him). Nobody
reviews his own conversation (403 `own_conversation`), and a conversation is in the queue at
most once (409 `already_reviewed`; a unique index holds it under races too)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from threadline.conversations.models import Message
from threadline.conversations.service import Actor, access_conversation
from threadline.db.base import new_id, utcnow
from threadline.errors import Conflict, Forbidden, NotFound, ValidationFailed, validated
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.quality.models import QualityReview, QualityScorecard, Reason, ReviewStatus
from threadline.quality.rules import AnswerError, check_answers, score, worth
from threadline.quality.schemas import AnswerOut, ReviewCreate, ReviewIn, ReviewOut
from threadline.quality.scorecards import (
    access_scorecard,
    criteria_rules,
    current_criteria,
    default_scorecard,
)
from threadline.workspace.models import Agent

CHUNK = 500
MAX_LIST = 200
TOPIC = Live.QUALITY_REVIEWED


# --- who handled a conversation ---------------------------------------------------------------


def last_answers(session: Session, conversation_ids: Sequence[uuid.UUID],
                 ) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    """The last answer an agent wrote in each conversation (internal notes left out): his
    id and its channel."""
    out: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    ids = list(conversation_ids)
    for start in range(0, len(ids), CHUNK):
        for conversation_id, agent_id, channel in session.execute(
                select(Message.conversation_id, Message.author_agent_id, Message.channel)
                .where(Message.conversation_id.in_(ids[start:start + CHUNK]),
                       Message.direction == "outbound", Message.kind != "note",
                       Message.author_agent_id.is_not(None))
                .order_by(Message.created_at, Message.id)):
            if agent_id is not None:
                out[conversation_id] = (agent_id, channel)
    return out


def agent_teams(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID | None]:
    return dict(session.execute(select(Agent.id, Agent.team_id).where(  # type: ignore[arg-type]
        Agent.workspace_id == workspace_id)).all())


def new_review(conv: Any, *, agent_id: uuid.UUID, team_id: uuid.UUID | None,
               channel: str | None, scorecard_id: uuid.UUID, reason: str) -> QualityReview:
    """A pending review of `conv` (a Conversation or a row with its id and workspace_id)."""
    return QualityReview(id=new_id(), workspace_id=conv.workspace_id, conversation_id=conv.id,
                         agent_id=agent_id, team_id=team_id, channel=channel,
                         scorecard_id=scorecard_id, reason=reason,
                         status=ReviewStatus.PENDING, answers={}, created_at=utcnow())


def _own(actor: Actor, agent_id: uuid.UUID | None) -> None:
    if actor.agent_id is not None and agent_id == actor.agent_id:
        raise Forbidden("nobody reviews his own conversation", code="own_conversation")


def add_conversation(session: Session, workspace_id: uuid.UUID, data: ReviewCreate,
                     actor: Actor) -> QualityReview:
    """A supervisor puts a conversation in the review queue (reason `manual`)."""
    conv = access_conversation(session, workspace_id, data.conversation_id)
    if conv.merged_into_id is not None:
        raise ValidationFailed("this conversation was merged into another",
                               code="conversation_merged")
    if session.scalar(select(QualityReview.id).where(
            QualityReview.conversation_id == conv.id)) is not None:
        raise Conflict("this conversation is in the review queue or reviewed already",
                       code="already_reviewed")
    last = last_answers(session, [conv.id]).get(conv.id)
    agent_id = data.agent_id
    if agent_id is not None:
        agent = session.get(Agent, agent_id)
        if agent is None or agent.workspace_id != workspace_id:
            raise NotFound("agent_id: no such agent in this workspace", code="agent_not_found",
                           details={"field": "agent_id"})
    else:
        agent_id = conv.assignee_id or (last[0] if last else None)
    if agent_id is None:
        raise ValidationFailed("no agent handled this conversation: name one (agent_id)",
                               code="no_agent", details={"field": "agent_id"})
    _own(actor, agent_id)
    if data.scorecard_id is not None:
        card = access_scorecard(session, workspace_id, data.scorecard_id)
        if not card.active:
            raise ValidationFailed("scorecard_id: this scorecard is archived",
                                   code="scorecard_archived", details={"field": "scorecard_id"})
    else:
        card = default_scorecard(session, workspace_id)
    team_id = conv.team_id or agent_teams(session, workspace_id).get(agent_id)
    review = new_review(conv, agent_id=agent_id, team_id=team_id,
                        channel=last[1] if last else conv.origin_channel,
                        scorecard_id=card.id, reason=Reason.MANUAL)
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError:
        raise Conflict("this conversation is in the review queue or reviewed already",
                       code="already_reviewed") from None
    audit(session, workspace_id, "quality.review_added", "conversation", conv.id,
          actor_type=actor.type, actor_id=actor.id, data={"review_id": str(review.id)})
    publish(session, workspace_id, Live.QUALITY_QUEUE_CHANGED, {"review_id": str(review.id)})
    return review


# --- reading ----------------------------------------------------------------------------------


def access_review(session: Session, workspace_id: uuid.UUID, review_id: uuid.UUID, *,
                  viewer: uuid.UUID | None, supervisor: bool) -> QualityReview:
    """One review as `viewer` may see it (NotFound otherwise: another workspace's, or an
    agent asking for a review that is not his or not done)."""
    row = session.scalar(select(QualityReview).where(QualityReview.id == review_id,
                                                     QualityReview.workspace_id == workspace_id))
    if row is None or (not supervisor and (
            viewer is None or row.agent_id != viewer or row.status != ReviewStatus.DONE)):
        raise NotFound("review not found", code="review_not_found")
    return row


def list_reviews(session: Session, workspace_id: uuid.UUID, *, status: str | None = None,
                 agent_id: uuid.UUID | None = None, reason: str | None = None,
                 exclude_agent: uuid.UUID | None = None,
                 limit: int = 100) -> list[QualityReview]:
    """Reviews of the workspace, the queue first in the order it was filled, done ones the
    latest first; `exclude_agent` leaves out the conversations of the one who asks."""
    stmt = select(QualityReview).where(QualityReview.workspace_id == workspace_id)
    if status is not None:
        stmt = stmt.where(QualityReview.status == status)
    if agent_id is not None:
        stmt = stmt.where(QualityReview.agent_id == agent_id)
    if reason is not None:
        stmt = stmt.where(QualityReview.reason == reason)
    if exclude_agent is not None:
        stmt = stmt.where((QualityReview.agent_id != exclude_agent)
                          | QualityReview.agent_id.is_(None))
    if status == ReviewStatus.PENDING:
        stmt = stmt.order_by(QualityReview.created_at, QualityReview.id)
    else:
        stmt = stmt.order_by(QualityReview.reviewed_at.desc(), QualityReview.created_at.desc())
    return list(session.scalars(stmt.limit(max(1, min(limit, MAX_LIST)))))


def my_reviews(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID,
               limit: int = 100) -> list[QualityReview]:
    """An agent's reviews that are done, the latest first."""
    return list(session.scalars(select(QualityReview).where(
        QualityReview.workspace_id == workspace_id, QualityReview.agent_id == agent_id,
        QualityReview.status == ReviewStatus.DONE)
        .order_by(QualityReview.reviewed_at.desc()).limit(max(1, min(limit, MAX_LIST)))))


def form_criteria(session: Session, review: QualityReview) -> tuple[int, list[dict[str, Any]]]:
    """The version and criteria a review is answered against: its own once done, the
    scorecard's current ones while pending."""
    if review.status == ReviewStatus.DONE and review.answers.get("items"):
        return int(review.answers.get("version", 0)), [
            {k: item[k] for k in ("key", "label", "weight", "scale")} | {
                "description": item.get("description", "")}
            for item in review.answers["items"]]
    card = session.get(QualityScorecard, review.scorecard_id)
    if card is None:  # the foreign key forbids it
        raise NotFound("scorecard not found", code="scorecard_not_found")
    return card.version, current_criteria(session, [card]).get(card.id, [])


def answers_out(answers: dict[str, Any]) -> list[AnswerOut]:
    return [AnswerOut(key=i["key"], label=i["label"], weight=i["weight"], scale=i["scale"],
                      value=i["value"], worth=worth(i["scale"], i["value"]))
            for i in answers.get("items", [])]


def reviews_out(session: Session, rows: Iterable[QualityReview]) -> list[ReviewOut]:
    """The API's view of reviews, with the names of agents and scorecards (two queries)."""
    rows = list(rows)
    agent_ids = {r.agent_id for r in rows} | {r.reviewer_id for r in rows}
    agent_ids.discard(None)
    names: dict[Any, str] = {}
    if agent_ids:
        names = {i: n for i, n in session.execute(
            select(Agent.id, Agent.name).where(Agent.id.in_(agent_ids)))}
    cards: dict[Any, str] = {}
    if rows:
        cards = {i: n for i, n in session.execute(
            select(QualityScorecard.id, QualityScorecard.name).where(
                QualityScorecard.id.in_({r.scorecard_id for r in rows})))}
    return [ReviewOut(
        id=r.id, conversation_id=r.conversation_id, agent_id=r.agent_id,
        agent_name=names.get(r.agent_id), team_id=r.team_id, channel=r.channel,
        reviewer_id=r.reviewer_id, reviewer_name=names.get(r.reviewer_id),
        scorecard_id=r.scorecard_id, scorecard_name=cards.get(r.scorecard_id, ""),
        scorecard_version=int(r.answers["version"]) if r.answers.get("version") else None,
        reason=r.reason,  # type: ignore[arg-type]
        status=r.status,  # type: ignore[arg-type]
        score=r.score, answers=answers_out(r.answers), comment=r.comment,
        created_at=r.created_at, reviewed_at=r.reviewed_at) for r in rows]


# --- answering --------------------------------------------------------------------------------


def parse_review(raw: Any) -> ReviewIn:
    return validated(ReviewIn, raw, "invalid_review")


def submit_review(session: Session, workspace_id: uuid.UUID, review_id: uuid.UUID,
                  data: ReviewIn, actor: Actor) -> QualityReview:
    """Answer a review (or correct a done one, against the same version): every criterion on
    its scale, the weighted score, the comment the agent reads. A supervisor's or admin's
    use case; the web layer checks the role."""
    review = access_review(session, workspace_id, review_id, viewer=actor.agent_id,
                           supervisor=True)
    _own(actor, review.agent_id)
    version, criteria = form_criteria(session, review)
    rules = criteria_rules(criteria)
    try:
        answers = check_answers(rules, data.answers)
    except AnswerError as exc:
        raise ValidationFailed(f"answers.{exc.key}: {exc.message}", code="invalid_answer",
                               details={"field": f"answers.{exc.key}"}) from None
    comment = (data.comment or "").strip() or None
    now = utcnow()
    first = review.status == ReviewStatus.PENDING
    review.answers = {"version": version, "items": [
        {"key": c["key"], "label": c["label"], "description": c.get("description", ""),
         "weight": c["weight"], "scale": c["scale"], "value": answers[c["key"]]}
        for c in criteria]}
    review.score = score(rules, answers)
    review.comment = comment
    review.status = ReviewStatus.DONE
    review.reviewer_id = actor.agent_id
    review.reviewed_at = review.reviewed_at or now
    session.flush()
    audit(session, workspace_id, "quality.review_done" if first else "quality.review_corrected",
          "conversation", review.conversation_id, actor_type=actor.type, actor_id=actor.id,
          data={"review_id": str(review.id), "score": review.score})
    publish(session, workspace_id, TOPIC, {"review_id": str(review.id),
                                           "agent_id": str(review.agent_id)})
    return review
