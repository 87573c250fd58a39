"""REST: quality reviews. Scorecards and the sampling settings (read by supervisors, written
by admins; a scorecard whose criteria change gets a new version, and the versions stay
readable), the review queue and reviews (supervisors and admins; an agent reads his own
reviews once done), and QA scores by agent, team and channel over a date range. Invalid input
is a 422 naming the field and stores nothing; another workspace's ids are 404."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from threadline.errors import Conflict, Forbidden, NotFound
from threadline.quality import reports, reviews, scorecards
from threadline.quality.schemas import (
    QaScores,
    ReasonName,
    ReviewCreate,
    ReviewIn,
    ReviewList,
    ReviewOut,
    ReviewStatusName,
    SamplingSettings,
    ScorecardIn,
    ScorecardList,
    ScorecardOut,
    ScorecardVersionOut,
)
from threadline.schema_types import ChannelKind
from threadline.web.contract import errors
from threadline.web.deps import (
    Principal,
    ReadSession,
    WriteSession,
    admin,
    current_principal,
    supervisor,
)
from threadline.workspace.models import Role

router = APIRouter(tags=["quality reviews"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]
Anyone = Annotated[Principal, Depends(current_principal)]


# --- scorecards -------------------------------------------------------------------------------


@router.get("/quality/scorecards", response_model=ScorecardList, responses=errors(role=True))
def list_scorecards(principal: Supervisor, session: WriteSession) -> ScorecardList:
    """The workspace's scorecards with their current criteria, the default first (a
    workspace that never had one gets the standard scorecard)."""
    scorecards.ensure_defaults(session, principal.workspace_id)
    rows = scorecards.list_scorecards(session, principal.workspace_id)
    criteria = scorecards.current_criteria(session, rows)
    return ScorecardList(scorecards=[scorecards.scorecard_out(r, criteria.get(r.id, []))
                                     for r in rows])


@router.post("/quality/scorecards", response_model=ScorecardOut, status_code=201,
             responses=errors(role=True))
def create_scorecard(body: ScorecardIn, principal: Admin,
                     session: WriteSession) -> ScorecardOut:
    """A scorecard (at most 50 per workspace); `is_default` makes it the one sampled
    conversations are reviewed with."""
    row, criteria = scorecards.save_scorecard(session, principal.workspace_id, body,
                                              principal.actor)
    return scorecards.scorecard_out(row, criteria)


@router.get("/quality/scorecards/{scorecard_id}", response_model=ScorecardOut,
            responses=errors(NotFound, role=True))
def get_scorecard(scorecard_id: uuid.UUID, principal: Supervisor,
                  session: ReadSession) -> ScorecardOut:
    row = scorecards.access_scorecard(session, principal.workspace_id, scorecard_id)
    return scorecards.scorecard_out(row, scorecards.current_criteria(session, [row])
                                    .get(row.id, []))


@router.put("/quality/scorecards/{scorecard_id}", response_model=ScorecardOut,
            responses=errors(NotFound, role=True))
def update_scorecard(scorecard_id: uuid.UUID, body: ScorecardIn, principal: Admin,
                     session: WriteSession) -> ScorecardOut:
    """Replace a scorecard. Other criteria make a new version: reviews already done keep
    the criteria they were answered against, pending ones get the new ones. `active: false`
    archives it (not the default: make another one the default first)."""
    row, criteria = scorecards.save_scorecard(session, principal.workspace_id, body,
                                              principal.actor, scorecard_id)
    return scorecards.scorecard_out(row, criteria)


@router.get("/quality/scorecards/{scorecard_id}/versions/{version}",
            response_model=ScorecardVersionOut, responses=errors(NotFound, role=True))
def get_scorecard_version(scorecard_id: uuid.UUID,
                          version: Annotated[int, Path(ge=1, le=1_000_000)],
                          principal: Supervisor, session: ReadSession) -> ScorecardVersionOut:
    """The criteria of one version of a scorecard."""
    return scorecards.version_out(scorecards.access_version(
        session, principal.workspace_id, scorecard_id, version))


@router.get("/quality/sampling", response_model=SamplingSettings, responses=errors(role=True))
def get_sampling(principal: Supervisor, session: ReadSession) -> SamplingSettings:
    """What the sampler puts in the review queue."""
    return scorecards.sampling_settings(session, principal.workspace_id)


@router.put("/quality/sampling", response_model=SamplingSettings, responses=errors(role=True))
def set_sampling(body: SamplingSettings, principal: Admin,
                 session: WriteSession) -> SamplingSettings:
    """The random percentage per agent and week, the rules switched on, the low-CSAT
    threshold and the weekly cap of rule-picked reviews per agent."""
    return scorecards.set_sampling_settings(session, principal.workspace_id, body,
                                            principal.actor)


# --- reviews ----------------------------------------------------------------------------------


@router.get("/quality/reviews", response_model=ReviewList, responses=errors(role=True))
def list_reviews(principal: Supervisor, session: ReadSession,
                 status: ReviewStatusName | None = None,
                 agent_id: uuid.UUID | None = None,
                 reason: ReasonName | None = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 100) -> ReviewList:
    """Reviews of the workspace: pending ones in the order they were queued, done ones the
    latest first; filtered by status, agent reviewed and reason."""
    rows = reviews.list_reviews(session, principal.workspace_id, status=status,
                                agent_id=agent_id, reason=reason, limit=limit)
    return ReviewList(reviews=reviews.reviews_out(session, rows))


@router.post("/quality/reviews", response_model=ReviewOut, status_code=201,
             responses=errors(NotFound, Conflict, role=True))
def add_review(body: ReviewCreate, principal: Supervisor, session: WriteSession) -> ReviewOut:
    """Put a conversation in the review queue by hand (reason `manual`). 409
    `already_reviewed`: it is queued or reviewed already; 403 `own_conversation`: the
    agent to review is the caller."""
    row = reviews.add_conversation(session, principal.workspace_id, body, principal.actor)
    return reviews.reviews_out(session, [row])[0]


@router.get("/quality/reviews/mine", response_model=ReviewList, responses=errors())
def my_reviews(principal: Anyone, session: ReadSession,
               limit: Annotated[int, Query(ge=1, le=200)] = 100) -> ReviewList:
    """The caller's own reviews that are done (answers, score, comment), the latest first
    (empty for a token that is not an agent's)."""
    agent_id = principal.actor.agent_id
    rows = reviews.my_reviews(session, principal.workspace_id, agent_id, limit) \
        if agent_id is not None else []
    return ReviewList(reviews=reviews.reviews_out(session, rows))


@router.get("/quality/reviews/{review_id}", response_model=ReviewOut,
            responses=errors(NotFound))
def get_review(review_id: uuid.UUID, principal: Anyone, session: ReadSession) -> ReviewOut:
    """A review: any of the workspace for supervisors and admins; an agent's own once done
    (else 404)."""
    row = reviews.access_review(session, principal.workspace_id, review_id,
                                viewer=principal.actor.agent_id,
                                supervisor=Role.RANK[principal.role] >= Role.RANK[
                                    Role.SUPERVISOR])
    return reviews.reviews_out(session, [row])[0]


@router.put("/quality/reviews/{review_id}", response_model=ReviewOut,
            responses=errors(NotFound, Forbidden, role=True))
def answer_review(review_id: uuid.UUID, body: ReviewIn, principal: Supervisor,
                  session: WriteSession) -> ReviewOut:
    """Answer a review (every criterion of its scorecard on its scale), or correct one done
    (against the same version). The score is the weighted share of the answers, n.a. left
    out. 403 `own_conversation` for the agent reviewed."""
    row = reviews.submit_review(session, principal.workspace_id, review_id, body,
                                principal.actor)
    return reviews.reviews_out(session, [row])[0]


# --- scores -----------------------------------------------------------------------------------


@router.get("/quality/scores", response_model=QaScores, responses=errors(role=True))
def qa_scores(principal: Supervisor, session: ReadSession,
              start: Annotated[datetime, Query(description="First instant (ISO 8601 with a "
                                                           "time zone), included")],
              end: Annotated[datetime, Query(description="Last instant, excluded; at most "
                                                         "366 days after start")],
              agent_id: Annotated[list[uuid.UUID] | None, Query()] = None,
              team_id: Annotated[list[uuid.UUID] | None, Query()] = None,
              channel: Annotated[list[ChannelKind] | None, Query()] = None) -> QaScores:
    """QA scores of the reviews done in [start, end): overall and by agent, team and
    channel (reviews, scored, average 0-100). 422 `invalid_range` / `range_too_long`."""
    return reports.qa_scores(session, principal.workspace_id, start, end, agent_ids=agent_id,
                             team_ids=team_id, channels=channel)
