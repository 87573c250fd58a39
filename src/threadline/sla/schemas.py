"""What calendars and policies say, validated when saved (a typed 422 naming the field), and
what the API shows of a conversation's clocks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from threadline.sla.calendar import CalendarError, clean_holidays, clean_hours, zone

MAX_NAME = 120
MAX_POLICIES = 100
MAX_CALENDARS = 50
MAX_TARGET_MINUTES = 60 * 24 * 365  # a year
MAX_LIST = 50
ESCALATIONS: tuple[str, ...] = ("notify", "raise_priority", "reassign", "email_supervisors")
Escalation = Literal["notify", "raise_priority", "reassign", "email_supervisors"]
Visibility = Literal["public", "private"]
TARGETS: tuple[str, ...] = ("first_response", "next_response", "resolution")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=MAX_NAME, pattern=r"^[^\x00-\x1f<>]+$")]
Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32,
                                        pattern=r"^[a-z0-9_\-]+$")]
Minutes = Annotated[int, Field(ge=1, le=MAX_TARGET_MINUTES)]


class CalendarIn(BaseModel):
    """Business hours: `time_zone` an IANA name, `hours` intervals per weekday in local time
    (`{"mon": [["09:00", "13:00"], ["14:00", "18:00"]]}`, a day left out is closed),
    `holidays` local dates; `team_ids` the teams that work by it; `is_default` makes it the
    workspace's calendar for conversations of other teams."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    time_zone: str = Field(max_length=64)
    hours: dict[str, list[list[str]]]
    holidays: list[str] = Field(default_factory=list, max_length=400)
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_LIST)
    is_default: bool = False

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zone(value)
        except CalendarError as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        try:
            cleaned = clean_hours(value)
        except CalendarError as exc:
            raise ValueError(str(exc)) from None
        if not cleaned:
            raise ValueError("at least one opening interval a week (00:00 to 24:00 every "
                             "day for round the clock)")
        return cleaned

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, value: Any) -> Any:
        try:
            return clean_holidays(value)
        except CalendarError as exc:
            raise ValueError(str(exc)) from None


class CalendarOut(BaseModel):
    id: uuid.UUID
    name: str
    time_zone: str
    hours: dict[str, list[list[str]]]
    holidays: list[str]
    team_ids: list[uuid.UUID]
    is_default: bool
    created_at: datetime
    updated_at: datetime


class CalendarList(BaseModel):
    calendars: list[CalendarOut]


def _notify() -> list[Escalation]:
    return ["notify"]


class PolicyIn(BaseModel):
    """A policy applies to conversations matching every list given (an empty list matches
    any): `priorities` 1 (P1, most urgent) to 4, `channels`, `visibilities`, `categories`,
    `team_ids`. Targets in minutes of business time (at least one). The warning comes at
    `warn_percent` of a target used, or `warn_minutes` before it. On a breach, the
    `escalation` actions run once."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    active: bool = True
    priorities: list[Annotated[int, Field(ge=1, le=4)]] = Field(default_factory=list,
                                                                max_length=4)
    channels: list[Word] = Field(default_factory=list, max_length=MAX_LIST)
    visibilities: list[Visibility] = Field(default_factory=list, max_length=2)
    categories: list[Word] = Field(default_factory=list, max_length=MAX_LIST)
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_LIST)
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    warn_percent: Annotated[int, Field(ge=1, le=99)] | None = None
    warn_minutes: Annotated[int, Field(ge=1, le=MAX_TARGET_MINUTES)] | None = None
    escalation: list[Escalation] = Field(default_factory=_notify, max_length=4)

    @model_validator(mode="after")
    def _targets(self) -> PolicyIn:
        if (self.first_response_minutes is None and self.next_response_minutes is None
                and self.resolution_minutes is None):
            raise ValueError("give at least one target: first_response_minutes, "
                             "next_response_minutes or resolution_minutes")
        if self.warn_percent is not None and self.warn_minutes is not None:
            raise ValueError("give warn_percent or warn_minutes, not both")
        self.escalation = list(dict.fromkeys(self.escalation))
        self.priorities = sorted(set(self.priorities))
        return self


class PolicyOut(BaseModel):
    id: uuid.UUID
    name: str
    position: int
    active: bool
    priorities: list[int]
    channels: list[str]
    visibilities: list[str]
    categories: list[str]
    team_ids: list[uuid.UUID]
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    warn_percent: int | None
    warn_minutes: int | None
    escalation: list[str]
    created_at: datetime
    updated_at: datetime


class PolicyList(BaseModel):
    policies: list[PolicyOut]


class PolicyOrderIn(BaseModel):
    """Every policy id of the workspace, in the new order (the first match wins)."""

    model_config = ConfigDict(extra="forbid")

    policy_ids: list[uuid.UUID] = Field(max_length=MAX_POLICIES)


class TargetOut(BaseModel):
    """One target of a conversation: its due time while running, warned and breached."""

    target: Literal["first_response", "next_response", "resolution"]
    minutes: int | None
    running: bool
    business_seconds_used: float
    due_at: datetime | None
    warn_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None


class OutcomeOut(BaseModel):
    target: str
    cycle: int
    status: Literal["met", "breached"]
    due_at: datetime | None
    breached_at: datetime | None
    done_at: datetime | None
    business_seconds: float | None


class ConversationSla(BaseModel):
    """A conversation's clocks (`policy_id` null: no policy applies), the earliest running
    due time (`sla_due_at`, what the inbox orders by) and the attainment so far."""

    conversation_id: uuid.UUID
    policy_id: uuid.UUID | None
    policy_name: str | None
    calendar: str
    paused: str | None
    sla_due_at: datetime | None
    targets: list[TargetOut]
    attainment: list[OutcomeOut]


class TargetAttainment(BaseModel):
    target: Literal["first_response", "next_response", "resolution"]
    met: int
    breached: int
    rate: float | None  # met / (met + breached); null when none


class AttainmentOut(BaseModel):
    """Service-level attainment of the workspace over the last `days` days."""

    days: int
    since: datetime
    targets: list[TargetAttainment]
