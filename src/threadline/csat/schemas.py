"""The CSAT API's shapes (strict input; the closed sets as Literal types, checked against
their sources by tests/csat/test_csat_api.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from threadline.csat.report import Figures, Summary
from threadline.schema_types import ChannelKind

# csat.models.SurveyStatus.ALL and Method.ALL
SurveyStatusName = Literal["sent", "answered", "expired", "failed"]
MethodName = Literal["quick_replies", "buttons", "inline", "link"]


class FiguresOut(BaseModel):
    sent: int
    answered: int
    expired: int
    failed: int
    waiting: int = Field(description="sent, not answered yet, not expired")
    delivered: int = Field(description="sent - failed")
    response_rate: float | None = Field(description="answered / delivered (null: none)")
    average: float | None = Field(description="mean score of the answered, 1 to 5")
    satisfied: float | None = Field(description="share of the answered with 4 or 5")
    scores: dict[str, int] = Field(description="answers per score, '1' to '5'")

    @classmethod
    def of(cls, figures: Figures) -> FiguresOut:
        return cls(sent=figures.sent, answered=figures.answered, expired=figures.expired,
                   failed=figures.failed, waiting=figures.waiting, delivered=figures.delivered,
                   response_rate=figures.response_rate, average=figures.average,
                   satisfied=figures.satisfied,
                   scores={str(k): v for k, v in figures.scores.items()})


class SummaryOut(BaseModel):
    since: datetime
    until: datetime
    total: FiguresOut
    by_channel: dict[str, FiguresOut]

    @classmethod
    def of(cls, summary: Summary) -> SummaryOut:
        return cls(since=summary.filters.since, until=summary.filters.until,
                   total=FiguresOut.of(summary.total),
                   by_channel={k: FiguresOut.of(v) for k, v in summary.by_channel.items()})


class SurveyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID | None
    channel: ChannelKind
    channel_account_id: uuid.UUID | None
    method: MethodName
    status: SurveyStatusName
    sent_at: datetime
    answered_at: datetime | None
    score: int | None = Field(ge=1, le=5)
    comment: str | None


class SurveyList(BaseModel):
    items: list[SurveyOut]
