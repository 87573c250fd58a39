"""Calendars and policies of a workspace: read, save (validated; another workspace's teams
refused), reorder, delete; and a conversation's clocks as the API shows them. Every change
asks for the workspace's open conversations to be recomputed (a job, after commit). Services
never commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation
from threadline.conversations.service import Actor, access_conversation
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, ValidationFailed, validated
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.routing import ordering
from threadline.sla.engine import request_recompute
from threadline.sla.models import SlaCalendar, SlaCalendarTeam, SlaClock, SlaOutcome, SlaPolicy
from threadline.sla.rules import compile_workspace
from threadline.sla.schemas import (
    MAX_CALENDARS,
    MAX_POLICIES,
    TARGETS,
    AttainmentOut,
    CalendarIn,
    CalendarOut,
    ConversationSla,
    OutcomeOut,
    PolicyIn,
    TargetAttainment,
    TargetOut,
)
from threadline.workspace.models import Team

# --- shared ---------------------------------------------------------------------------------


def parse_calendar(raw: Any) -> CalendarIn:
    return validated(CalendarIn, raw, "invalid_calendar")


def parse_policy(raw: Any) -> PolicyIn:
    return validated(PolicyIn, raw, "invalid_policy")


def _check_teams(session: Session, workspace_id: uuid.UUID, team_ids: list[uuid.UUID]) -> None:
    if not team_ids:
        return
    found = set(session.scalars(select(Team.id).where(Team.workspace_id == workspace_id,
                                                      Team.id.in_(team_ids))))
    for index, team_id in enumerate(team_ids):
        if team_id not in found:
            raise NotFound(f"team_ids.{index}: no such team in this workspace",
                           code="team_not_found", details={"field": f"team_ids.{index}"})


def _changed(session: Session, workspace_id: uuid.UUID, action: str, kind: str,
             row_id: uuid.UUID, name: str, actor: Actor) -> None:
    audit(session, workspace_id, action, kind, row_id, actor_type=actor.type,
          actor_id=actor.id, data={"name": name})
    publish(session, workspace_id, Live.SLA_SETTINGS_CHANGED, {"action": action,
                                                            "id": str(row_id)})
    request_recompute(session, workspace_id)


# --- calendars --------------------------------------------------------------------------------


def list_calendars(session: Session, workspace_id: uuid.UUID) -> list[SlaCalendar]:
    return list(session.scalars(select(SlaCalendar).where(
        SlaCalendar.workspace_id == workspace_id).order_by(SlaCalendar.name)))


def teams_of(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {}
    for team_id, calendar_id in session.execute(
            select(SlaCalendarTeam.team_id, SlaCalendarTeam.calendar_id)
            .where(SlaCalendarTeam.workspace_id == workspace_id)):
        out.setdefault(calendar_id, []).append(team_id)
    return out


def calendar_out(row: SlaCalendar, team_ids: list[uuid.UUID]) -> CalendarOut:
    return CalendarOut(id=row.id, name=row.name, time_zone=row.time_zone, hours=row.hours,
                       holidays=row.holidays, team_ids=sorted(team_ids, key=str),
                       is_default=row.is_default, created_at=row.created_at,
                       updated_at=row.updated_at)


def access_calendar(session: Session, workspace_id: uuid.UUID,
                    calendar_id: uuid.UUID) -> SlaCalendar:
    row = session.scalar(select(SlaCalendar).where(SlaCalendar.id == calendar_id,
                                                   SlaCalendar.workspace_id == workspace_id))
    if row is None:
        raise NotFound("calendar not found", code="calendar_not_found")
    return row


def _name_taken(session: Session, workspace_id: uuid.UUID, name: str,
                other: uuid.UUID | None) -> None:
    stmt = select(SlaCalendar.id).where(SlaCalendar.workspace_id == workspace_id,
                                        SlaCalendar.name == name)
    if other is not None:
        stmt = stmt.where(SlaCalendar.id != other)
    if session.scalar(stmt) is not None:
        raise ValidationFailed("name: a calendar of this workspace has this name already",
                               code="invalid_calendar", details={"field": "name"})


def save_calendar(session: Session, workspace_id: uuid.UUID, data: CalendarIn, actor: Actor,
                  calendar_id: uuid.UUID | None = None) -> SlaCalendar:
    """Create (or replace `calendar_id`): its teams move to it; `is_default` unsets the
    previous default."""
    _check_teams(session, workspace_id, data.team_ids)
    _name_taken(session, workspace_id, data.name, calendar_id)
    now = utcnow()
    if calendar_id is None:
        count = session.scalar(select(func.count(SlaCalendar.id)).where(
            SlaCalendar.workspace_id == workspace_id))
        if int(count or 0) >= MAX_CALENDARS:
            raise ValidationFailed(f"at most {MAX_CALENDARS} calendars per workspace",
                                   code="too_many_calendars", details={"field": "calendars"})
        row = SlaCalendar(id=new_id(), workspace_id=workspace_id, created_at=now)
        session.add(row)
        action = "sla.calendar_created"
    else:
        row = access_calendar(session, workspace_id, calendar_id)
        action = "sla.calendar_updated"
    row.name, row.time_zone = data.name, data.time_zone
    row.hours, row.holidays = data.hours, data.holidays
    row.is_default, row.updated_at = data.is_default, now
    session.flush()
    if data.is_default:
        session.execute(update(SlaCalendar).where(SlaCalendar.workspace_id == workspace_id,
                                                  SlaCalendar.id != row.id)
                        .values(is_default=False).execution_options(
                            synchronize_session=False))
    session.execute(delete(SlaCalendarTeam).where(
        SlaCalendarTeam.workspace_id == workspace_id,
        (SlaCalendarTeam.calendar_id == row.id)
        | SlaCalendarTeam.team_id.in_(data.team_ids)))
    for team_id in dict.fromkeys(data.team_ids):
        session.add(SlaCalendarTeam(team_id=team_id, calendar_id=row.id,
                                    workspace_id=workspace_id))
    session.flush()
    _changed(session, workspace_id, action, "sla_calendar", row.id, row.name, actor)
    return row


def delete_calendar(session: Session, workspace_id: uuid.UUID, calendar_id: uuid.UUID,
                    actor: Actor) -> None:
    row = access_calendar(session, workspace_id, calendar_id)
    _changed(session, workspace_id, "sla.calendar_deleted", "sla_calendar", row.id, row.name,
             actor)
    session.execute(delete(SlaCalendarTeam).where(SlaCalendarTeam.calendar_id == row.id))
    session.delete(row)
    session.flush()


# --- policies ---------------------------------------------------------------------------------


def list_policies(session: Session, workspace_id: uuid.UUID) -> list[SlaPolicy]:
    return ordering.in_order(session, SlaPolicy, workspace_id)


def access_policy(session: Session, workspace_id: uuid.UUID,
                  policy_id: uuid.UUID) -> SlaPolicy:
    row: SlaPolicy = ordering.access(session, SlaPolicy, workspace_id, policy_id,
                                     message="policy not found", code="policy_not_found")
    return row


def _stored(data: PolicyIn) -> dict[str, Any]:
    out = data.model_dump(mode="json")
    return out


def save_policy(session: Session, workspace_id: uuid.UUID, data: PolicyIn, actor: Actor,
                policy_id: uuid.UUID | None = None) -> SlaPolicy:
    """Create a policy (last in the order) or replace `policy_id` (its place kept)."""
    _check_teams(session, workspace_id, data.team_ids)
    now = utcnow()
    if policy_id is None:
        count, last = session.execute(
            select(func.count(SlaPolicy.id), func.max(SlaPolicy.position))
            .where(SlaPolicy.workspace_id == workspace_id)).one()
        if int(count or 0) >= MAX_POLICIES:
            raise ValidationFailed(f"at most {MAX_POLICIES} policies per workspace",
                                   code="too_many_policies", details={"field": "policies"})
        row = SlaPolicy(id=new_id(), workspace_id=workspace_id, created_at=now,
                        position=(int(last) + 1) if last is not None else 0)
        session.add(row)
        action = "sla.policy_created"
    else:
        row = access_policy(session, workspace_id, policy_id)
        action = "sla.policy_updated"
    for key, value in _stored(data).items():
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    _changed(session, workspace_id, action, "sla_policy", row.id, row.name, actor)
    return row


def delete_policy(session: Session, workspace_id: uuid.UUID, policy_id: uuid.UUID,
                  actor: Actor) -> None:
    row = access_policy(session, workspace_id, policy_id)
    _changed(session, workspace_id, "sla.policy_deleted", "sla_policy", row.id, row.name,
             actor)
    session.delete(row)
    session.flush()


def reorder_policies(session: Session, workspace_id: uuid.UUID, policy_ids: list[uuid.UUID],
                     actor: Actor) -> list[SlaPolicy]:
    rows = ordering.reorder(session, workspace_id, list_policies(session, workspace_id),
                            policy_ids, actor, field="policy_ids", what="policy",
                            action="sla.policies_reordered", topic=Live.SLA_SETTINGS_CHANGED)
    request_recompute(session, workspace_id)
    return rows


def move_policy(session: Session, workspace_id: uuid.UUID, policy_id: uuid.UUID, step: int,
                actor: Actor) -> list[SlaPolicy]:
    access_policy(session, workspace_id, policy_id)
    ids = [row.id for row in list_policies(session, workspace_id)]
    return reorder_policies(session, workspace_id, ordering.moved(ids, policy_id, step), actor)


# --- a conversation's clocks --------------------------------------------------------------------


def conversation_sla(session: Session, workspace_id: uuid.UUID,
                     conversation_id: uuid.UUID) -> ConversationSla:
    conv: Conversation = access_conversation(session, workspace_id, conversation_id)
    clock = session.get(SlaClock, conv.id)
    compiled = compile_workspace(session, workspace_id)
    policy = session.get(SlaPolicy, clock.policy_id) if clock and clock.policy_id else None
    targets: list[TargetOut] = []
    if clock is not None:
        kind = clock.response_kind
        if kind is not None:
            minutes = (policy.first_response_minutes if kind == "first"
                       else policy.next_response_minutes) if policy else None
            targets.append(TargetOut(
                target="first_response" if kind == "first" else "next_response",
                minutes=minutes, running=clock.response_since is not None,
                business_seconds_used=round(clock.response_used, 3),
                due_at=clock.response_due_at, warn_at=clock.response_warn_at,
                warned_at=clock.response_warned_at, breached_at=clock.response_breached_at))
        targets.append(TargetOut(
            target="resolution", minutes=policy.resolution_minutes if policy else None,
            running=clock.resolution_since is not None,
            business_seconds_used=round(clock.resolution_used, 3),
            due_at=clock.resolution_due_at, warn_at=clock.resolution_warn_at,
            warned_at=clock.resolution_warned_at, breached_at=clock.resolution_breached_at))
    outcomes = session.scalars(select(SlaOutcome).where(SlaOutcome.conversation_id == conv.id)
                               .order_by(SlaOutcome.id)).all()
    return ConversationSla(
        conversation_id=conv.id, policy_id=policy.id if policy else None,
        policy_name=policy.name if policy else None,
        calendar=compiled.calendar_name(conv.team_id),
        paused=clock.paused if clock else None, sla_due_at=conv.sla_due_at,
        targets=targets,
        attainment=[OutcomeOut.model_validate(o, from_attributes=True) for o in outcomes])


# --- attainment for the KPIs ------------------------------------------------------------------


def attainment(session: Session, workspace_id: uuid.UUID, days: int) -> AttainmentOut:
    """Targets met and breached over the last `days` days (by when the outcome was
    recorded), per target, with the rate met."""
    since = utcnow() - timedelta(days=days)
    counts: dict[str, dict[str, int]] = {t: {"met": 0, "breached": 0} for t in TARGETS}
    for target, status, count in session.execute(
            select(SlaOutcome.target, SlaOutcome.status, func.count())
            .where(SlaOutcome.workspace_id == workspace_id, SlaOutcome.created_at >= since)
            .group_by(SlaOutcome.target, SlaOutcome.status)):
        if target in counts and status in counts[target]:
            counts[target][status] = int(count)
    rows = []
    for target in TARGETS:
        met, breached = counts[target]["met"], counts[target]["breached"]
        total = met + breached
        rows.append(TargetAttainment(target=target, met=met, breached=breached,
                                     rate=round(met / total, 4) if total else None))
    return AttainmentOut(days=days, since=since, targets=rows)


# --- the supervisors' panel ------------------------------------------------------------------


@dataclass(frozen=True)
class PanelRow:
    conversation_id: uuid.UUID
    target: str
    state: str  # breached | warning
    due_at: Any
    priority: int
    assignee_id: uuid.UUID | None


def panel(session: Session, workspace_id: uuid.UUID, limit: int = 30) -> list[PanelRow]:
    """Open conversations with a breached or warned running clock, most overdue first."""
    rows = session.execute(
        select(SlaClock, Conversation).join(Conversation,
                                            Conversation.id == SlaClock.conversation_id)
        .where(SlaClock.workspace_id == workspace_id,
               Conversation.status.in_(("open", "pending", "snoozed")),
               (SlaClock.response_warned_at.is_not(None)
                | SlaClock.resolution_warned_at.is_not(None)))
        .order_by(Conversation.sla_due_at).limit(limit * 2)).all()
    out: list[PanelRow] = []
    for clock, conv in rows:
        for prefix, target in (("response", "first_response" if clock.response_kind == "first"
                                else "next_response"), ("resolution", "resolution")):
            if prefix == "response" and clock.response_kind is None:
                continue
            breached = getattr(clock, f"{prefix}_breached_at")
            warned = getattr(clock, f"{prefix}_warned_at")
            if breached is None and warned is None:
                continue
            out.append(PanelRow(conv.id, target, "breached" if breached else "warning",
                                getattr(clock, f"{prefix}_due_at"), conv.priority,
                                conv.assignee_id))
    out.sort(key=lambda r: (r.state != "breached", r.due_at is None, r.due_at or 0))
    return out[:limit]
