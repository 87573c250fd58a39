"""What scorecards, sampling settings and reviews say: validated when saved (a typed 422
naming the field, nothing stored), and what the API shows of them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from threadline.schema_types import UUIDIn

MAX_NAME = 120
MAX_LABEL = 80
MAX_DESCRIPTION = 500
MAX_CRITERIA = 30
MAX_WEIGHT = 100
MAX_COMMENT = 5000
MAX_SCORECARDS = 50

ScaleName = Literal["yes_no", "yes_no_na", "one_to_five", "one_to_five_na"]
ReasonName = Literal["random", "low_csat", "reopened", "hopped", "public_complaint", "manual"]
ReviewStatusName = Literal["pending", "done"]
GroupName = Literal["agent", "team", "channel"]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=MAX_NAME, pattern=r"^[^\x00-\x1f<>]+$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                         max_length=MAX_LABEL, pattern=r"^[^\x00-\x1f<>]+$")]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_DESCRIPTION,
                                               pattern=r"^[^\x00-\x08\x0b-\x1f]*$")]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                       pattern=r"^[a-z][a-z0-9_]*$")]
AnswerKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Answer = Annotated[StrictStr, StringConstraints(max_length=8)] | StrictInt


class CriterionIn(BaseModel):
    """One thing a reviewer judges: `key` (lower-case letters, digits and `_`, kept across
    versions), `label`, `description` (what good looks like), `weight` (1-100, its share of
    the score) and `scale`: yes_no, yes_no_na, one_to_five or one_to_five_na."""

    model_config = ConfigDict(extra="forbid", strict=True)

    key: Key
    label: Label
    description: Description = ""
    weight: Annotated[int, Field(ge=1, le=MAX_WEIGHT)] = 1
    scale: ScaleName = "yes_no_na"


class ScorecardIn(BaseModel):
    """A scorecard: a name, a description and 1-30 criteria with distinct keys. Saving other
    criteria (or another name) makes a new version; reviews already done keep theirs.
    `is_default`: sampled conversations are reviewed with it. `active: false` archives it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Name
    description: Description = ""
    criteria: list[CriterionIn] = Field(min_length=1, max_length=MAX_CRITERIA)
    is_default: bool = False
    active: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> ScorecardIn:
        seen: set[str] = set()
        for index, criterion in enumerate(self.criteria):
            if criterion.key in seen:
                raise ValueError(f"criteria.{index}.key: {criterion.key!r} is used twice")
            seen.add(criterion.key)
        if self.is_default and not self.active:
            raise ValueError("an archived scorecard cannot be the default")
        return self


class CriterionOut(BaseModel):
    key: str
    label: str
    description: str
    weight: int
    scale: ScaleName


class ScorecardOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    version: int
    is_default: bool
    active: bool
    criteria: list[CriterionOut]
    created_at: datetime
    updated_at: datetime


class ScorecardList(BaseModel):
    scorecards: list[ScorecardOut]


class ScorecardVersionOut(BaseModel):
    """The criteria of one version, as reviews of that version were given them."""

    scorecard_id: uuid.UUID
    version: int
    criteria: list[CriterionOut]
    created_at: datetime


class SamplingSettings(BaseModel):
    """What the sampler puts in the review queue each time it runs. Random: this percentage
    of each agent's resolved conversations of each week (rounded up: an agent who resolved
    any gets at least one while it is above 0). By rule, each switched on or off: the
    customer's CSAT answer at most `low_csat_max_score`, reopened, hopped (a channel hop was
    offered), public complaint (started in public, and a complaint or negative). At most
    `max_rule_reviews_per_agent_week` rule-picked reviews per agent and week."""

    model_config = ConfigDict(extra="forbid", strict=True)

    random_percent: Annotated[int, Field(ge=0, le=100)] = 5
    low_csat: bool = True
    low_csat_max_score: Annotated[int, Field(ge=1, le=4)] = 2
    reopened: bool = True
    hopped: bool = True
    public_complaint: bool = True
    max_rule_reviews_per_agent_week: Annotated[int, Field(ge=1, le=1000)] = 10


class ReviewIn(BaseModel):
    """A review's answers, one per criterion of the scorecard (`"yes"`, `"no"`, `"na"`, or
    1-5 as a number or a string), and an optional comment the agent reads (at most 5,000
    characters, shown as plain text)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    answers: dict[AnswerKey, Answer] = Field(max_length=MAX_CRITERIA)
    comment: Annotated[str, Field(max_length=MAX_COMMENT)] | None = None


class ReviewCreate(BaseModel):
    """A conversation a supervisor adds to the queue by hand. `agent_id`: the agent to
    review (default: the assignee, else the last agent who answered); `scorecard_id`: the
    scorecard (default: the workspace's default)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    conversation_id: UUIDIn
    agent_id: UUIDIn | None = None
    scorecard_id: UUIDIn | None = None


class AnswerOut(BaseModel):
    key: str
    label: str
    weight: int
    scale: ScaleName
    value: str
    worth: float | None = Field(description="The share of the weight earned (null: n.a.)")


class ReviewOut(BaseModel):
    """A review: pending (in the queue) or done (answers, score 0-100 with n.a. left out,
    null when every answer is n.a.)."""

    id: uuid.UUID
    conversation_id: uuid.UUID
    agent_id: uuid.UUID | None
    agent_name: str | None
    team_id: uuid.UUID | None
    channel: str | None
    reviewer_id: uuid.UUID | None
    reviewer_name: str | None
    scorecard_id: uuid.UUID
    scorecard_name: str
    scorecard_version: int | None = Field(description="The version answered (null: pending)")
    reason: ReasonName
    status: ReviewStatusName
    score: float | None
    answers: list[AnswerOut]
    comment: str | None
    created_at: datetime
    reviewed_at: datetime | None


class ReviewList(BaseModel):
    reviews: list[ReviewOut]


class ScoreGroup(BaseModel):
    """QA scores of one agent, team or channel (`key` null: none recorded)."""

    key: str | None
    name: str
    reviews: int = Field(description="Reviews done in the range")
    scored: int = Field(description="Of which with a score (not every answer n.a.)")
    average: float | None = Field(description="Mean score, 0-100 (null when none scored)")


class QaScores(BaseModel):
    """QA scores of the reviews done in [start, end), overall and by agent, team and
    channel."""

    start: datetime
    end: datetime
    overall: ScoreGroup
    by_agent: list[ScoreGroup]
    by_team: list[ScoreGroup]
    by_channel: list[ScoreGroup]
