"""REST: CSAT. The workspace's survey settings (read by supervisors, written by admins), the
summary (response rate, average, share satisfied; per channel) over a range and the
dashboards' filters, and the surveys behind it. A range in the wrong order or over a year, or
a filter value this workspace does not have, is a typed 422 naming the field."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator

from threadline.csat import report
from threadline.csat.schemas import SummaryOut, SurveyList, SurveyOut, SurveyStatusName
from threadline.csat.settings import CsatSettings, csat_settings, set_csat_settings
from threadline.db.base import utcnow
from threadline.schema_types import ChannelKind
from threadline.web.contract import errors
from threadline.web.deps import Principal, ReadSession, WriteSession, admin, supervisor

router = APIRouter(tags=["csat"])
Admin = Annotated[Principal, Depends(admin)]
Supervisor = Annotated[Principal, Depends(supervisor)]
DEFAULT_DAYS = 30


def _filters(since: datetime | None, until: datetime | None, channel: str | None,
             channel_account_id: uuid.UUID | None, team_id: uuid.UUID | None,
             agent_id: uuid.UUID | None) -> report.Filters:
    end = until or utcnow()
    return report.Filters(since=since or end - timedelta(days=DEFAULT_DAYS), until=end,
                          channel=channel, channel_account_id=channel_account_id,
                          team_id=team_id, agent_id=agent_id)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    """A date-time as the document says (RFC 3339, with its offset): not a number of seconds,
    not a bare date."""
    if value is not None and not (isinstance(value, str) and _RFC3339.match(value)):
        raise ValueError("a date-time such as 2026-03-01T00:00:00Z")
    return value


Since = Annotated[datetime | None, BeforeValidator(_rfc3339), Query(
    description="From (inclusive), RFC 3339 with its offset; default: 30 days before `until`")]
Until = Annotated[datetime | None, BeforeValidator(_rfc3339), Query(
    description="To (exclusive), RFC 3339 with its offset; default: now")]
Channel = Annotated[ChannelKind | None, Query()]


@router.get("/csat/settings", response_model=CsatSettings, responses=errors(role=True))
def get_settings(principal: Supervisor, session: ReadSession) -> CsatSettings:
    """Whether surveys are sent, the delay after the resolution, the period (at most one
    survey per customer), the question, how long answers are taken, WhatsApp's style."""
    return csat_settings(session, principal.workspace_id)


@router.put("/csat/settings", response_model=CsatSettings, responses=errors(role=True))
def put_settings(body: CsatSettings, principal: Admin, session: WriteSession) -> CsatSettings:
    return set_csat_settings(session, principal.workspace_id, body, principal.actor)


@router.get("/csat/summary", response_model=SummaryOut, responses=errors(role=True))
def get_summary(principal: Supervisor, session: ReadSession, since: Since = None,
                until: Until = None, channel: Channel = None,
                channel_account_id: uuid.UUID | None = None, team_id: uuid.UUID | None = None,
                agent_id: uuid.UUID | None = None) -> SummaryOut:
    """Surveys sent in the range (by `sent_at`): the response rate (answered / delivered),
    the average score, the share of 4s and 5s, answers per score; in total and per channel.
    Team and agent are the conversation's current ones."""
    return SummaryOut.of(report.summary(session, principal.workspace_id, _filters(
        since, until, channel, channel_account_id, team_id, agent_id)))


@router.get("/csat/surveys", response_model=SurveyList, responses=errors(role=True))
def list_surveys(principal: Supervisor, session: ReadSession, since: Since = None,
                 until: Until = None, channel: Channel = None,
                 channel_account_id: uuid.UUID | None = None,
                 team_id: uuid.UUID | None = None, agent_id: uuid.UUID | None = None,
                 conversation_id: uuid.UUID | None = None,
                 status: SurveyStatusName | None = None,
                 limit: Annotated[int, Query(ge=1, le=report.MAX_LIST)] = 50) -> SurveyList:
    """The surveys behind the numbers, newest first (a conversation's: every one of it)."""
    filters = None if conversation_id is not None and since is None and until is None \
        else _filters(since, until, channel, channel_account_id, team_id, agent_id)
    rows = report.surveys(session, principal.workspace_id, filters=filters,
                          conversation_id=conversation_id, status=status, limit=limit)
    return SurveyList(items=[SurveyOut.model_validate(r) for r in rows])
