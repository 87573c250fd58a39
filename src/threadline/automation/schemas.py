"""What an automation rule says: when (a trigger), if (conditions, as in routing), then (an
ordered list of typed actions). Validated when saved; a stored rule is read back with the same
models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from threadline.routing.conditions import Condition

Trigger = Literal["message_received", "conversation_created", "sla_warning", "sla_breach",
                  "conversation_resolved"]
TRIGGERS: tuple[str, ...] = ("message_received", "conversation_created", "sla_warning",
                             "sla_breach", "conversation_resolved")
ActionType = Literal["assign_team", "assign_agent", "add_label", "set_priority",
                     "send_template", "snooze", "resolve_as_spam"]
ACTION_TYPES: tuple[str, ...] = ("assign_team", "assign_agent", "add_label", "set_priority",
                                 "send_template", "snooze", "resolve_as_spam")

MAX_CONDITIONS = 20
MAX_ACTIONS = 10
MAX_RULES = 200
MAX_NAME = 120
MAX_LABEL = 64
MAX_SNOOZE_MINUTES = 60 * 24 * 30  # thirty days

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=MAX_NAME)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                         max_length=MAX_LABEL, pattern=r"^[^\x00-\x1f<>]+$")]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignTeam(_Action):
    """Give the conversation to a team (its agent is unset: routing picks one in the team)."""

    type: Literal["assign_team"]
    team_id: uuid.UUID


class AssignAgent(_Action):
    type: Literal["assign_agent"]
    agent_id: uuid.UUID


class AddLabel(_Action):
    type: Literal["add_label"]
    label: Label


class SetPriority(_Action):
    """P1 (1) is the most urgent, P4 (4) the least."""

    type: Literal["set_priority"]
    priority: int = Field(ge=1, le=4)


class SendTemplate(_Action):
    """Reply with a workspace template, its variables filled; the reply goes through the same
    checks as an agent's (personal-data guard, channel rules, approval)."""

    type: Literal["send_template"]
    template_id: uuid.UUID
    visibility: Literal["public", "private"] = "public"


class Snooze(_Action):
    type: Literal["snooze"]
    minutes: int = Field(ge=1, le=MAX_SNOOZE_MINUTES)


class ResolveAsSpam(_Action):
    """Label "spam" and resolve."""

    type: Literal["resolve_as_spam"]


Action = Annotated[AssignTeam | AssignAgent | AddLabel | SetPriority | SendTemplate | Snooze
                   | ResolveAsSpam, Field(discriminator="type")]


class RuleIn(BaseModel):
    """A rule as written by an admin (API body, or the settings form)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    trigger: Trigger
    conditions: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)
    active: bool = True


class RuleOut(BaseModel):
    id: uuid.UUID
    name: str
    position: int
    active: bool
    trigger: Trigger
    conditions: list[Condition]
    actions: list[Action]
    created_at: datetime
    updated_at: datetime


class RuleList(BaseModel):
    rules: list[RuleOut]


class ActiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool


class OrderIn(BaseModel):
    """Every rule id of the workspace, in the new order."""

    model_config = ConfigDict(extra="forbid")

    rule_ids: list[uuid.UUID] = Field(max_length=MAX_RULES)


class RunOut(BaseModel):
    id: int
    rule_id: uuid.UUID
    conversation_id: uuid.UUID
    event: str
    status: Literal["fired", "failed"]
    result: list[dict[str, Any]]
    error: str | None
    created_at: datetime


class RunList(BaseModel):
    runs: list[RunOut]
