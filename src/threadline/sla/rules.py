"""A workspace's service levels compiled for matching: its active policies in order (first
match wins) and its calendars (per team, the default, or round the clock), built once and
kept while nothing changes. Pure lookups once compiled."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from threadline.sla.calendar import ALWAYS, BusinessCalendar
from threadline.sla.clocks import NO_TARGETS, Targets
from threadline.sla.models import SlaCalendar, SlaCalendarTeam, SlaPolicy

_CALENDARS: dict[tuple[uuid.UUID, datetime, int], BusinessCalendar] = {}
_REBUILD = timedelta(days=100)  # a calendar's window is rebuilt around now this often


@dataclass(frozen=True)
class PolicyRule:
    id: uuid.UUID
    name: str
    priorities: frozenset[int]
    channels: frozenset[str]
    visibilities: frozenset[str]
    categories: frozenset[str]
    team_ids: frozenset[uuid.UUID]
    targets: Targets
    escalation: tuple[str, ...]

    def matches(self, priority: int | None, channel: str | None, visibility: str | None,
                category: str | None, team_id: uuid.UUID | None) -> bool:
        return ((not self.priorities or priority in self.priorities)
                and (not self.channels or channel in self.channels)
                and (not self.visibilities or visibility in self.visibilities)
                and (not self.categories or category in self.categories)
                and (not self.team_ids or team_id in self.team_ids))


def targets_of(policy: SlaPolicy) -> Targets:
    def seconds(minutes: int | None) -> float | None:
        return None if minutes is None else minutes * 60.0

    return Targets(first=seconds(policy.first_response_minutes),
                   next=seconds(policy.next_response_minutes),
                   resolution=seconds(policy.resolution_minutes),
                   warn_percent=policy.warn_percent,
                   warn_seconds=seconds(policy.warn_minutes))


def rule_of(policy: SlaPolicy) -> PolicyRule:
    team_ids = set()
    for value in policy.team_ids or []:
        try:
            team_ids.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    return PolicyRule(
        id=policy.id, name=policy.name,
        priorities=frozenset(int(p) for p in policy.priorities or []),
        channels=frozenset(str(c) for c in policy.channels or []),
        visibilities=frozenset(str(v) for v in policy.visibilities or []),
        categories=frozenset(str(c) for c in policy.categories or []),
        team_ids=frozenset(team_ids), targets=targets_of(policy),
        escalation=tuple(str(e) for e in policy.escalation or []))


def calendar_of(row: SlaCalendar, now: datetime | None = None) -> BusinessCalendar:
    """The precomputed business time of a stored calendar (kept per version)."""
    now = now or datetime.now(UTC)
    bucket = int(now.timestamp() // _REBUILD.total_seconds())
    key = (row.id, row.updated_at, bucket)
    found = _CALENDARS.get(key)
    if found is None:
        if len(_CALENDARS) > 256:
            _CALENDARS.clear()
        found = BusinessCalendar(row.time_zone, row.hours, row.holidays, around=now)
        _CALENDARS[key] = found
    return found


@dataclass
class Compiled:
    """The workspace's policies and calendars, ready to match many conversations."""

    rules: list[PolicyRule]
    by_team: dict[uuid.UUID, BusinessCalendar]
    default: BusinessCalendar
    default_name: str
    team_names: dict[uuid.UUID, str]
    _memo: dict[tuple[Any, ...], PolicyRule | None] = field(default_factory=dict)

    def policy_for(self, priority: int | None, channel: str | None, visibility: str | None,
                   category: str | None, team_id: uuid.UUID | None) -> PolicyRule | None:
        key = (priority, channel, visibility, category, team_id)
        try:
            return self._memo[key]
        except KeyError:
            pass
        found = next((r for r in self.rules
                      if r.matches(priority, channel, visibility, category, team_id)), None)
        self._memo[key] = found
        return found

    def targets_for(self, *key: Any) -> Targets:
        rule = self.policy_for(*key)
        return rule.targets if rule else NO_TARGETS

    def calendar_for(self, team_id: uuid.UUID | None) -> BusinessCalendar:
        if team_id is not None:
            found = self.by_team.get(team_id)
            if found is not None:
                return found
        return self.default

    def calendar_name(self, team_id: uuid.UUID | None) -> str:
        if team_id is not None and team_id in self.team_names:
            return self.team_names[team_id]
        return self.default_name


def compile_workspace(session: Session, workspace_id: uuid.UUID,
                      now: datetime | None = None) -> Compiled:
    policies = session.scalars(
        select(SlaPolicy).where(SlaPolicy.workspace_id == workspace_id,
                                SlaPolicy.active.is_(True))
        .order_by(SlaPolicy.position, SlaPolicy.created_at)).all()
    calendars = {c.id: c for c in session.scalars(
        select(SlaCalendar).where(SlaCalendar.workspace_id == workspace_id))}
    by_team: dict[uuid.UUID, BusinessCalendar] = {}
    team_names: dict[uuid.UUID, str] = {}
    for team_id, calendar_id in session.execute(
            select(SlaCalendarTeam.team_id, SlaCalendarTeam.calendar_id)
            .where(SlaCalendarTeam.workspace_id == workspace_id)):
        row = calendars.get(calendar_id)
        if row is not None:
            by_team[team_id] = calendar_of(row, now)
            team_names[team_id] = row.name
    default_row = next((c for c in calendars.values() if c.is_default), None)
    return Compiled(rules=[rule_of(p) for p in policies], by_team=by_team,
                    default=calendar_of(default_row, now) if default_row else ALWAYS,
                    default_name=default_row.name if default_row else "24x7",
                    team_names=team_names)


def has_policies(session: Session, workspace_id: uuid.UUID) -> bool:
    return bool(session.scalar(select(func.count(SlaPolicy.id)).where(
        SlaPolicy.workspace_id == workspace_id, SlaPolicy.active.is_(True))))
