"""The dashboards' filters and drill-down criteria, parsed from a query string.

Filters (every group, the drill-down, the exports): `from` and `to` (days, UTC, on
`opened_at`, both included; 30 days to today by default, at most 366 days), `team`, `agent`
(the conversation's assignee), `channel` and `account` (where it started), `category`
("none" for none). A drill-down narrows them further: `hour`, `visibility`, `relevance`
(direct | awareness | unknown), `origin`, `path`, `resolved_on`, `sentiment`, `csat`,
`worked_by`, `resolved_by` and one `flag`. Anything malformed, in the wrong order, over the
limit or naming something the workspace does not have is a typed 422 naming the field.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from threadline.channels.registry import kinds
from threadline.errors import ValidationFailed
from threadline.kpis.dashboards.stats import opened_in_hour
from threadline.kpis.models import AgentActivity, ConversationFacts
from threadline.selfservice.models import BotSession, BotState
from threadline.workspace.models import Agent, ChannelAccount, Team

F = ConversationFacts
MAX_DAYS = 366
DEFAULT_DAYS = 30
MAX_VALUE = 120  # characters of one parameter's value
CATEGORIES = ("complaint", "technical", "feedback", "question", "praise")
AWARENESS = ("mention", "competitor", "chatter")
VISIBILITIES = ("public", "private")
SENTIMENTS = ("negative", "neutral", "positive")
_STEP = r"[a-z][a-z0-9_]{0,31}:(?:public|private)"
_STEP_RE = re.compile(rf"^{_STEP}$")
_PATH_RE = re.compile(rf"^{_STEP}(?:>{_STEP}){{0,2}}$")
_SOURCE_RE = re.compile(r"^source:[a-z0-9_:.-]{1,40}$")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# flag -> what it keeps (the conversation-level conditions behind the dashboards' numbers)
FLAGS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "resolved": lambda: F.status.in_(("resolved", "closed")),
    "unresolved": lambda: F.status.not_in(("resolved", "closed")),
    "responded": lambda: F.first_response_at.is_not(None),
    "unanswered": lambda: F.first_response_at.is_(None),
    "fcr": lambda: F.fcr.is_(True),
    "not_fcr": lambda: F.fcr.is_(False),
    "reopened": lambda: F.reopen_count > 0,
    "public_to_private": lambda: F.public_to_private.is_(True),
    "hop_offered": lambda: F.hop_offered_s.is_not(None),
    "hop_taken": lambda: F.hop_taken.is_(True),
    "returned": lambda: F.returned_to_origin.is_(True),
    "not_returned": lambda: F.returned_to_origin.is_(False),
    "sla_fr_met": lambda: F.sla_first_response_met.is_(True),
    "sla_fr_breached": lambda: F.sla_first_response_met.is_(False),
    "sla_res_met": lambda: F.sla_resolution_met.is_(True),
    "sla_res_breached": lambda: F.sla_resolution_met.is_(False),
    "handled": lambda: F.handle_s > 0,
    "multichannel": lambda: F.channels > 1,
    "bot": lambda: _bot_in(BotState.ALL),
    "bot_deflected": lambda: _bot_in((BotState.DEFLECTED,)),
    "bot_handed_over": lambda: _bot_in((BotState.HANDED_OVER,)),
    "bot_waiting": lambda: _bot_in((BotState.BOT,)),
    "improved": lambda: _sentiment_moved(better=True),
    "worsened": lambda: _sentiment_moved(better=False),
}
DRILLS = ("hour", "visibility", "relevance", "origin", "path", "resolved_on", "sentiment",
          "csat", "worked_by", "resolved_by", "flag")
FILTERS = ("from", "to", "team", "agent", "channel", "account", "category")


def _bot_in(states: tuple[str, ...]) -> ColumnElement[bool]:
    """The conversations the self-service bot looked at, in one of these states."""
    return exists().where(BotSession.conversation_id == F.conversation_id,
                          BotSession.state.in_(states))


def _sentiment_moved(*, better: bool) -> ColumnElement[bool]:
    rank = {"negative": 0, "neutral": 1, "positive": 2}
    pairs = [(a, b) for a in rank for b in rank if (rank[b] > rank[a] if better
                                                    else rank[b] < rank[a])]
    return or_(*[and_(F.sentiment_start == a, F.sentiment_end == b) for a, b in pairs])


def invalid(name: str, message: str, code: str = "invalid_filter") -> ValidationFailed:
    return ValidationFailed(f"{name}: {message}", code=code, details={"field": name})


@dataclass(frozen=True)
class Filters:
    """What every dashboard, drill-down and export is restricted to."""

    workspace_id: uuid.UUID
    start: date
    end: date  # included
    team_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    channel: str | None = None
    account_id: uuid.UUID | None = None
    category: str | None = None
    drill: dict[str, str] = field(default_factory=dict)  # the drill-down's criteria

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=UTC)

    @property
    def end_at(self) -> datetime:  # excluded
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def query(self, *, drill: bool = False) -> dict[str, str]:
        """The filters as query parameters (for links; the drill-down's too when asked)."""
        found = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name, value in (("team", self.team_id), ("agent", self.agent_id),
                            ("channel", self.channel), ("account", self.account_id),
                            ("category", self.category)):
            if value is not None:
                found[name] = str(value)
        if drill:
            found.update(self.drill)
        return found

    def without_drill(self) -> Filters:
        return replace(self, drill={})

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clause on conversation_facts (the index on (workspace_id, opened_at)
        serves the first three)."""
        found: list[ColumnElement[bool]] = [
            F.workspace_id == self.workspace_id, F.opened_at >= self.start_at,
            F.opened_at < self.end_at]
        if self.team_id is not None:
            found.append(F.team_id == self.team_id)
        if self.agent_id is not None:
            found.append(F.assignee_id == self.agent_id)
        if self.channel is not None:
            found.append(F.origin_channel == self.channel)
        if self.account_id is not None:
            found.append(F.origin_account_id == self.account_id)
        if self.category == "none":
            found.append(F.category.is_(None))
        elif self.category is not None:
            found.append(F.category == self.category)
        found.extend(drill_conditions(self.drill, self.workspace_id))
        return found


def _value(params: Mapping[str, Any], name: str) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise invalid(name, "give one value")
    value = raw.strip()
    if len(value) > MAX_VALUE:
        raise invalid(name, f"at most {MAX_VALUE} characters")
    return value or None


def _day(params: Mapping[str, Any], name: str) -> date | None:
    value = _value(params, name)
    if value is None:
        return None
    if not _DAY_RE.match(value):
        raise invalid(name, "write a day as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(name, "no such day") from None


def _uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid(name, "not an id") from None


def _unknown(name: str) -> ValidationFailed:
    return invalid(name, "no such value in this workspace", code="unknown_filter_value")


def _owned(session: Session, model: Any, workspace_id: uuid.UUID, value: str,
           name: str) -> uuid.UUID:
    found = _uuid(value, name)
    if session.scalar(select(model.id).where(model.id == found,
                                             model.workspace_id == workspace_id)) is None:
        raise _unknown(name)
    return found


def parse_filters(session: Session, workspace_id: uuid.UUID, params: Mapping[str, Any], *,
                  today: date | None = None, drill: bool = False) -> Filters:
    """The filters (and with `drill`, the drill-down's criteria) in `params`; a typed 422
    for anything wrong. Team, agent and account ids must be the workspace's own."""
    today = today or datetime.now(UTC).date()
    end = _day(params, "to")
    start = _day(params, "from")
    if end is None:
        end = max(today, start) if start is not None else today
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise invalid("from", "the range starts after it ends", code="bad_range")
    if (end - start).days + 1 > MAX_DAYS:
        raise invalid("to", f"at most {MAX_DAYS} days at once", code="range_too_long")
    team = _value(params, "team")
    agent = _value(params, "agent")
    account = _value(params, "account")
    channel = _value(params, "channel")
    if channel is not None and channel not in kinds():
        raise _unknown("channel")
    category = _value(params, "category")
    if category is not None and category != "none" and category not in CATEGORIES and (
            not _CATEGORY_RE.match(category) or session.scalar(select(exists().where(
                F.workspace_id == workspace_id, F.category == category))) is not True):
        raise _unknown("category")
    return Filters(
        workspace_id=workspace_id, start=start, end=end,
        team_id=_owned(session, Team, workspace_id, team, "team") if team else None,
        agent_id=_owned(session, Agent, workspace_id, agent, "agent") if agent else None,
        channel=channel, category=category,
        account_id=_owned(session, ChannelAccount, workspace_id, account, "account")
        if account else None,
        drill=parse_drill(session, workspace_id, params) if drill else {})


_CHECKS: dict[str, Callable[[str], bool]] = {
    "hour": lambda v: v.isdigit() and 0 <= int(v) <= 23,
    "visibility": lambda v: v in VISIBILITIES,
    "relevance": lambda v: v in ("direct", "awareness", "unknown"),
    "origin": lambda v: bool(_STEP_RE.match(v) or _SOURCE_RE.match(v)),
    "path": lambda v: bool(_PATH_RE.match(v)),
    "resolved_on": lambda v: v == "unresolved" or bool(_STEP_RE.match(v)),
    "sentiment": lambda v: v.count(">") == 1 and all(
        s in (*SENTIMENTS, "none", "*") for s in v.split(">")),
    "csat": lambda v: v in ("1", "2", "3", "4", "5"),
    "flag": lambda v: v in FLAGS,
    "worked_by": lambda v: True, "resolved_by": lambda v: True,
}


def parse_drill(session: Session, workspace_id: uuid.UUID,
                params: Mapping[str, Any]) -> dict[str, str]:
    """The drill-down's criteria, each checked (a typed 422 names the field)."""
    found: dict[str, str] = {}
    for name in DRILLS:
        value = _value(params, name)
        if value is None:
            continue
        if not _CHECKS[name](value):
            raise invalid(name, "not a value this criterion takes")
        if name in ("worked_by", "resolved_by"):
            value = str(_owned(session, Agent, workspace_id, value, name))
        found[name] = value
    return found


def drill_conditions(drill: Mapping[str, str], workspace_id: uuid.UUID,
                     ) -> list[ColumnElement[bool]]:
    from threadline.kpis.dashboards import feedback

    found: list[ColumnElement[bool]] = []
    for name, value in drill.items():
        if name == "hour":
            found.append(opened_in_hour(int(value)))
        elif name == "visibility":
            found.append(F.origin_visibility == value)
        elif name == "relevance":
            found.append(F.relevance == "direct" if value == "direct" else
                         F.relevance.in_(AWARENESS) if value == "awareness" else
                         F.relevance.is_(None))
        elif name == "origin":
            found.append(_origin(value))
        elif name == "path":
            found.append(or_(F.journey == value, F.journey.startswith(value + ">")))
        elif name == "resolved_on":
            found.append(F.resolved_channel.is_(None) | F.status.not_in(("resolved", "closed"))
                         if value == "unresolved" else and_(
                             F.status.in_(("resolved", "closed")),
                             F.resolved_channel == value.split(":")[0],
                             F.resolved_visibility == value.split(":")[1]))
        elif name == "sentiment":
            for column, wanted in zip((F.sentiment_start, F.sentiment_end), value.split(">"),
                                      strict=True):
                if wanted != "*":
                    found.append(column.is_(None) if wanted == "none" else column == wanted)
        elif name == "csat":
            found.append(feedback.answered_with(workspace_id, int(value)))
        elif name == "worked_by":
            found.append(exists().where(AgentActivity.conversation_id == F.conversation_id,
                                        AgentActivity.agent_id == uuid.UUID(value)))
        elif name == "resolved_by":
            found.append(F.resolved_by_id == uuid.UUID(value))
        elif name == "flag":
            found.append(FLAGS[value]())
        else:  # pragma: no cover - parse_drill lets nothing else through
            found.append(false())
    return found


def _origin(value: str) -> ColumnElement[bool]:
    if value.startswith("source:"):
        return F.origin_source == value.removeprefix("source:")
    channel, visibility = value.split(":")
    return and_(F.origin_source.is_(None), F.origin_channel == channel,
                F.origin_visibility == visibility)
