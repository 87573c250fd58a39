"""What routing reads and writes through the API and the settings pages: skills, teams with
members, agents' routing profiles, presence and routing rules. Validated when saved; an
invalid value is a typed 422 naming the field."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from threadline.routing.conditions import Condition

MAX_SKILLS = 50
MAX_RULES = 200
MAX_CONDITIONS = 20
MAX_MEMBERS = 500
MAX_NAME = 120
MAX_CAPACITY = 200

Presence = Literal["online", "away", "offline"]
PRESENCES: tuple[str, ...] = ("online", "away", "offline")
WorkKind = Literal["realtime", "delayed"]
LANGUAGE_SKILL = "language"  # in a rule's required skills: the conversation's language

_SKILL = re.compile(
    r"^(?:[a-z]{2,3}(?:-[a-z]{2,4})?"  # a language: es, pt-br
    r"|vip"
    r"|(?:channel|category|custom):[a-z0-9][a-z0-9_.-]{0,38})$")


def _skill(value: str) -> str:
    clean = value.strip().lower()
    if not _SKILL.match(clean):
        raise ValueError("a skill is a language code (es, pt-br), vip, channel:<name>, "
                         "category:<name> or custom:<name>")
    return clean


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Skill = Annotated[str, StringConstraints(max_length=60), AfterValidator(_skill)]
Skills = Annotated[list[Skill], Field(max_length=MAX_SKILLS), AfterValidator(_unique)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=MAX_NAME, pattern=r"^[^\x00-\x1f]+$")]


def _required(value: str) -> str:
    return LANGUAGE_SKILL if value.strip().lower() == LANGUAGE_SKILL else _skill(value)


RequiredSkill = Annotated[str, StringConstraints(max_length=60), AfterValidator(_required)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberIn(_In):
    agent_id: uuid.UUID
    skills: Skills = Field(default_factory=list)


class TeamIn(_In):
    """A team: its skills (what it handles) and, when `language_required`, its agents must
    speak the conversation's language. `members` replaces the members when given."""

    name: Name
    skills: Skills = Field(default_factory=list)
    language_required: StrictBool = False
    members: list[MemberIn] | None = Field(default=None, max_length=MAX_MEMBERS)


class MemberOut(BaseModel):
    agent_id: uuid.UUID
    name: str
    skills: list[str]


class TeamOut(BaseModel):
    id: uuid.UUID
    name: str
    skills: list[str]
    language_required: bool
    members: list[MemberOut]


class TeamList(BaseModel):
    teams: list[TeamOut]


class ProfileIn(_In):
    """An agent's routing profile; fields left out are kept."""

    skills: Skills | None = None
    capacity_realtime: StrictInt | None = Field(default=None, ge=0, le=MAX_CAPACITY)
    capacity_delayed: StrictInt | None = Field(default=None, ge=0, le=MAX_CAPACITY)
    presence: Presence | None = None


class ProfileOut(BaseModel):
    agent_id: uuid.UUID
    name: str
    skills: list[str]
    capacity_realtime: int
    capacity_delayed: int
    presence: str
    last_seen_at: datetime | None
    last_assigned_at: datetime | None
    load_realtime: int
    load_delayed: int
    teams: list[uuid.UUID]


class ProfileList(BaseModel):
    agents: list[ProfileOut]


class PresenceIn(_In):
    presence: Presence


class RuleIn(_In):
    """If every condition holds (first enabled rule in order wins), the conversation goes to
    `team_id`, to an agent with every skill of `required_skills` ("language": the
    conversation's language)."""

    name: Name
    conditions: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    team_id: uuid.UUID
    required_skills: list[RequiredSkill] = Field(default_factory=list, max_length=MAX_SKILLS)
    enabled: StrictBool = True


class RuleOut(BaseModel):
    id: uuid.UUID
    name: str
    position: int
    enabled: bool
    conditions: list[Condition]
    team_id: uuid.UUID
    required_skills: list[str]
    created_at: datetime
    updated_at: datetime


class RuleList(BaseModel):
    rules: list[RuleOut]


class OrderIn(_In):
    """Every routing rule id of the workspace, in the new order."""

    rule_ids: list[uuid.UUID] = Field(max_length=MAX_RULES)


class Decision(BaseModel):
    at: datetime
    actor: str | None
    reason: str
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None


class RoutingOut(BaseModel):
    """Why a conversation is where it is: its kind of work, the skills it needs, who
    assigned it and the router's decisions, newest first."""

    conversation_id: uuid.UUID
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    work_kind: WorkKind | None
    required_skills: list[str]
    routed_by: str | None
    reason: str | None
    routed_at: datetime | None
    queued_at: datetime | None
    decisions: list[Decision]
