"""Routing settings of a workspace: teams (skills, members), agents' routing profiles
(skills, capacity per kind of work, presence), routing rules (ordered, first match wins) and
why a conversation went where it did. Ids of another workspace are a 404 naming the field;
invalid input a 422 naming the field; nothing is stored either way. Services never commit."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from threadline.conversations.models import Conversation, Status
from threadline.conversations.service import Actor, access_conversation
from threadline.db.base import new_id, utcnow
from threadline.errors import Conflict, NotFound, ValidationFailed, validated
from threadline.events.models import AuditEvent
from threadline.events.names import Live
from threadline.events.service import audit, publish
from threadline.routing import ordering
from threadline.routing.models import RoutingRule, TeamMember
from threadline.routing.presence import set_presence
from threadline.routing.schemas import (
    MAX_RULES,
    Decision,
    MemberOut,
    ProfileIn,
    ProfileOut,
    RoutingOut,
    RuleIn,
    TeamIn,
    TeamOut,
)
from threadline.routing.service import DELAYED, REALTIME, ROUTED_ACTION, loads
from threadline.workspace.models import Agent, Team

M = TypeVar("M", bound=BaseModel)
MAX_FORM_FIELD = 50_000
DECISIONS_SHOWN = 20
MAX_TEAMS = 200


def parse(model: type[M], raw: Any, code: str) -> M:
    """Untrusted JSON -> `model`; a typed 422 naming the first bad field."""
    return validated(model, raw, code, what="body")


def _changed(session: Session, workspace_id: uuid.UUID, action: str, subject_type: str,
             subject_id: uuid.UUID, actor: Actor, data: dict[str, Any]) -> None:
    audit(session, workspace_id, action, subject_type, subject_id, actor_type=actor.type,
          actor_id=actor.id, data=data)
    publish(session, workspace_id, Live.ROUTING_CHANGED, {"action": action})


# --- teams -----------------------------------------------------------------------------------


def access_team(session: Session, workspace_id: uuid.UUID, team_id: uuid.UUID,
                field: str = "team_id") -> Team:
    team = session.scalar(select(Team).where(Team.id == team_id,
                                             Team.workspace_id == workspace_id))
    if team is None:
        raise NotFound(f"{field}: no such team in this workspace", code="team_not_found",
                       details={"field": field})
    return team


def list_teams(session: Session, workspace_id: uuid.UUID) -> list[Team]:
    return list(session.scalars(select(Team).where(Team.workspace_id == workspace_id)
                                .order_by(Team.name)))


def team_out(session: Session, team: Team) -> TeamOut:
    return teams_out(session, [team])[0]


def teams_out(session: Session, teams: list[Team]) -> list[TeamOut]:
    members: dict[uuid.UUID, list[MemberOut]] = {t.id: [] for t in teams}
    if teams:
        for member, name in session.execute(
                select(TeamMember, Agent.name).join(Agent, Agent.id == TeamMember.agent_id)
                .where(TeamMember.team_id.in_(list(members))).order_by(Agent.name)):
            members[member.team_id].append(MemberOut(agent_id=member.agent_id, name=name,
                                                     skills=list(member.skills or ())))
    return [TeamOut(id=t.id, name=t.name, skills=list(t.skills or ()),
                    language_required=bool(t.language_required), members=members[t.id])
            for t in teams]


def _set_members(session: Session, team: Team, members: list[Any]) -> None:
    wanted = {m.agent_id: list(m.skills) for m in members}
    if wanted:
        found = set(session.scalars(select(Agent.id).where(
            Agent.id.in_(list(wanted)), Agent.workspace_id == team.workspace_id)))
        for index, member in enumerate(members):
            if member.agent_id not in found:
                field = f"members.{index}.agent_id"
                raise NotFound(f"{field}: no such agent in this workspace",
                               code="agent_not_found", details={"field": field})
    current = {m.agent_id: m for m in session.scalars(
        select(TeamMember).where(TeamMember.team_id == team.id))}
    for agent_id, member in current.items():
        if agent_id not in wanted:
            session.delete(member)
        else:
            member.skills = wanted[agent_id]
    for agent_id, skills in wanted.items():
        if agent_id not in current:
            session.add(TeamMember(id=new_id(), workspace_id=team.workspace_id,
                                   team_id=team.id, agent_id=agent_id, skills=skills,
                                   created_at=utcnow()))
    session.flush()


def _name_taken(session: Session, workspace_id: uuid.UUID, name: str,
                other: uuid.UUID | None) -> None:
    stmt = select(Team.id).where(Team.workspace_id == workspace_id, Team.name == name)
    if other is not None:
        stmt = stmt.where(Team.id != other)
    if session.scalar(stmt) is not None:
        raise Conflict("name: a team of this name exists", code="team_exists",
                       details={"field": "name"})


def create_team(session: Session, workspace_id: uuid.UUID, data: TeamIn, actor: Actor) -> Team:
    count = session.scalar(select(func.count(Team.id)).where(Team.workspace_id == workspace_id))
    if int(count or 0) >= MAX_TEAMS:
        raise ValidationFailed(f"at most {MAX_TEAMS} teams per workspace", code="too_many_teams",
                               details={"field": "teams"})
    _name_taken(session, workspace_id, data.name, None)
    team = Team(id=new_id(), workspace_id=workspace_id, name=data.name, skills=data.skills,
                language_required=data.language_required, created_at=utcnow())
    session.add(team)
    session.flush()
    if data.members is not None:
        _set_members(session, team, data.members)
    _changed(session, workspace_id, "team.created", "team", team.id, actor,
             {"name": team.name, "skills": team.skills})
    return team


def update_team(session: Session, workspace_id: uuid.UUID, team_id: uuid.UUID, data: TeamIn,
                actor: Actor) -> Team:
    team = access_team(session, workspace_id, team_id)
    _name_taken(session, workspace_id, data.name, team.id)
    team.name, team.skills, team.language_required = (data.name, data.skills,
                                                      data.language_required)
    if data.members is not None:
        _set_members(session, team, data.members)
    session.flush()
    _changed(session, workspace_id, "team.updated", "team", team.id, actor,
             {"name": team.name, "skills": team.skills})
    return team


def delete_team(session: Session, workspace_id: uuid.UUID, team_id: uuid.UUID,
                actor: Actor) -> None:
    """A team with active conversations cannot go (move them first); its members and the
    routing rules that send to it go with it."""
    team = access_team(session, workspace_id, team_id)
    busy = session.scalar(select(func.count(Conversation.id)).where(
        Conversation.team_id == team.id, Conversation.status.in_(Status.ACTIVE)))
    if busy:
        raise Conflict(f"the team has {busy} active conversations; move them first",
                       code="team_busy", details={"field": "team_id"})
    for model in (TeamMember, RoutingRule):
        for row in session.scalars(select(model).where(model.team_id == team.id)):
            session.delete(row)
    session.flush()
    for agent in session.scalars(select(Agent).where(Agent.team_id == team.id)):
        agent.team_id = None
    session.execute(Conversation.__table__.update().where(  # type: ignore[attr-defined]
        Conversation.team_id == team.id).values(team_id=None))
    _changed(session, workspace_id, "team.deleted", "team", team.id, actor, {"name": team.name})
    session.delete(team)
    try:
        session.flush()
    except IntegrityError:  # pragma: no cover - a reference added meanwhile
        raise Conflict("the team is still referenced", code="team_busy") from None


# --- agents' routing profiles ----------------------------------------------------------------


def access_agent(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.id == agent_id,
                                               Agent.workspace_id == workspace_id))
    if agent is None:
        raise NotFound("agent not found", code="agent_not_found",
                       details={"field": "agent_id"})
    return agent


def profiles(session: Session, workspace_id: uuid.UUID,
             agents: list[Agent] | None = None) -> list[ProfileOut]:
    """Every active agent's routing profile with his load per kind: two grouped counts."""
    if agents is None:
        agents = list(session.scalars(select(Agent).where(
            Agent.workspace_id == workspace_id, Agent.active.is_(True)).order_by(Agent.name)))
    ids = [a.id for a in agents]
    realtime, delayed = loads(session, ids, REALTIME), loads(session, ids, DELAYED)
    teams: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    if ids:
        for agent_id, team_id in session.execute(
                select(TeamMember.agent_id, TeamMember.team_id)
                .where(TeamMember.agent_id.in_(ids))):
            teams[agent_id].append(team_id)
    return [ProfileOut(agent_id=a.id, name=a.name, skills=list(a.skills or ()),
                       capacity_realtime=a.capacity_realtime,
                       capacity_delayed=a.capacity_delayed, presence=a.presence,
                       last_seen_at=a.last_seen_at, last_assigned_at=a.last_assigned_at,
                       load_realtime=realtime.get(a.id, 0), load_delayed=delayed.get(a.id, 0),
                       teams=teams[a.id]) for a in agents]


def update_profile(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID,
                   data: ProfileIn, actor: Actor) -> Agent:
    agent = access_agent(session, workspace_id, agent_id)
    changes = data.model_dump(exclude_none=True, exclude={"presence"})
    for key, value in changes.items():
        setattr(agent, key, value)
    if changes:
        _changed(session, workspace_id, "agent.routing_profile", "agent", agent.id, actor,
                 changes)
    if data.presence is not None:
        set_presence(session, agent, data.presence, actor)
    session.flush()
    return agent


# --- routing rules ---------------------------------------------------------------------------


def list_rules(session: Session, workspace_id: uuid.UUID) -> list[RoutingRule]:
    return ordering.in_order(session, RoutingRule, workspace_id)


def access_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID) -> RoutingRule:
    rule: RoutingRule = ordering.access(session, RoutingRule, workspace_id, rule_id,
                                        message="routing rule not found", code="rule_not_found")
    return rule


def _stored(data: RuleIn) -> dict[str, Any]:
    return {"name": data.name, "enabled": data.enabled, "team_id": data.team_id,
            "conditions": [c.model_dump(mode="json") for c in data.conditions],
            "required_skills": list(dict.fromkeys(data.required_skills))}


def _rule_changed(session: Session, rule: RoutingRule, action: str, actor: Actor) -> None:
    _changed(session, rule.workspace_id, action, "routing_rule", rule.id, actor,
             {"name": rule.name, "team_id": str(rule.team_id)})


def create_rule(session: Session, workspace_id: uuid.UUID, data: RuleIn,
                actor: Actor) -> RoutingRule:
    count, last = session.execute(
        select(func.count(RoutingRule.id), func.max(RoutingRule.position))
        .where(RoutingRule.workspace_id == workspace_id)).one()
    if int(count or 0) >= MAX_RULES:
        raise ValidationFailed(f"at most {MAX_RULES} routing rules per workspace",
                               code="too_many_rules", details={"field": "rules"})
    access_team(session, workspace_id, data.team_id)
    now = utcnow()
    rule = RoutingRule(id=new_id(), workspace_id=workspace_id,
                       position=(int(last) + 1) if last is not None else 0, created_at=now,
                       updated_at=now, **_stored(data))
    session.add(rule)
    session.flush()
    _rule_changed(session, rule, "routing.rule_created", actor)
    return rule


def update_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID, data: RuleIn,
                actor: Actor) -> RoutingRule:
    rule = access_rule(session, workspace_id, rule_id)
    access_team(session, workspace_id, data.team_id)
    for key, value in _stored(data).items():
        setattr(rule, key, value)
    rule.updated_at = utcnow()
    session.flush()
    _rule_changed(session, rule, "routing.rule_updated", actor)
    return rule


def delete_rule(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID,
                actor: Actor) -> None:
    rule = access_rule(session, workspace_id, rule_id)
    _rule_changed(session, rule, "routing.rule_deleted", actor)
    session.delete(rule)
    session.flush()


def reorder(session: Session, workspace_id: uuid.UUID, rule_ids: list[uuid.UUID],
            actor: Actor) -> list[RoutingRule]:
    """Every rule of the workspace, each once, in the new order."""
    return ordering.reorder(session, workspace_id, list_rules(session, workspace_id), rule_ids,
                            actor, field="rule_ids", what="routing rule",
                            action="routing.rules_reordered", topic=Live.ROUTING_CHANGED)


def move(session: Session, workspace_id: uuid.UUID, rule_id: uuid.UUID, step: int,
         actor: Actor) -> list[RoutingRule]:
    access_rule(session, workspace_id, rule_id)
    ids = [rule.id for rule in list_rules(session, workspace_id)]
    return reorder(session, workspace_id, ordering.moved(ids, rule_id, step), actor)


# --- why a conversation went where it did ------------------------------------------------------


def routing_of(session: Session, workspace_id: uuid.UUID,
               conversation_id: uuid.UUID) -> RoutingOut:
    conv = access_conversation(session, workspace_id, conversation_id)
    decisions = []
    for event in session.scalars(
            select(AuditEvent).where(AuditEvent.workspace_id == workspace_id,
                                     AuditEvent.subject_type == "conversation",
                                     AuditEvent.subject_id == str(conv.id),
                                     AuditEvent.action == ROUTED_ACTION)
            .order_by(AuditEvent.id.desc()).limit(DECISIONS_SHOWN)):
        data = event.data or {}
        decisions.append(Decision(
            at=event.created_at, actor=event.actor_id, reason=str(data.get("reason", "")),
            team_id=uuid.UUID(data["team_id"]) if data.get("team_id") else None,
            assignee_id=uuid.UUID(data["assignee_id"]) if data.get("assignee_id") else None))
    return RoutingOut(conversation_id=conv.id, team_id=conv.team_id,
                      assignee_id=conv.assignee_id,
                      work_kind=conv.work_kind if conv.work_kind in (REALTIME, DELAYED)
                      else None, required_skills=list(conv.required_skills or ()),
                      routed_by=conv.routed_by, reason=conv.routed_reason,
                      routed_at=conv.routed_at, queued_at=conv.queued_at, decisions=decisions)


# --- settings forms (the desktop) --------------------------------------------------------------


def json_field(fields: dict[str, str], name: str, default: str = "[]") -> Any:
    raw = fields.get(name, "").strip() or default
    if len(raw) > MAX_FORM_FIELD:
        raise ValidationFailed(f"{name}: at most {MAX_FORM_FIELD} characters",
                               code="invalid_rule", details={"field": name})
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: not valid JSON ({exc.args[0][:80]})",
                               code="invalid_rule", details={"field": name}) from None


def words(raw: str) -> list[str]:
    """"es, vip  channel:whatsapp" -> ["es", "vip", "channel:whatsapp"]."""
    return [w for w in raw.replace(",", " ").split() if w][:200]


def save_rule_form(session: Session, workspace_id: uuid.UUID, fields: dict[str, str],
                   actor: Actor, rule_id: uuid.UUID | None = None) -> RoutingRule:
    raw_team = fields.get("team_id", "").strip()
    data = parse(RuleIn, {"name": fields.get("name", ""), "team_id": raw_team or None,
                          "enabled": fields.get("enabled") in ("on", "true", "1"),
                          "conditions": json_field(fields, "conditions"),
                          "required_skills": words(fields.get("required_skills", ""))},
                 "invalid_rule")
    if rule_id is None:
        return create_rule(session, workspace_id, data, actor)
    return update_rule(session, workspace_id, rule_id, data, actor)


@dataclass(frozen=True)
class TeamsView:
    teams: list[TeamOut]
    agents: list[ProfileOut]


def teams_view(session: Session, workspace_id: uuid.UUID) -> TeamsView:
    return TeamsView(teams=teams_out(session, list_teams(session, workspace_id)),
                     agents=profiles(session, workspace_id))


# --- the supervisor's board ------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    team_id: uuid.UUID
    team: str
    waiting: int
    oldest_minutes: int | None  # how long the oldest waiting conversation has waited
    realtime: int
    delayed: int


@dataclass(frozen=True)
class Board:
    queues: list[QueueRow]
    agents: list[ProfileOut]


def board(session: Session, workspace_id: uuid.UUID) -> Board:
    """Queues per team (waiting conversations, the oldest's wait, by kind of work) and every
    agent's presence and load per kind: three grouped queries."""
    now = utcnow()
    teams = list_teams(session, workspace_id)
    waiting: dict[uuid.UUID, dict[str, Any]] = {t.id: {"n": 0, "oldest": None, REALTIME: 0,
                                                       DELAYED: 0} for t in teams}
    for team_id, kind, count, oldest in session.execute(
            select(Conversation.team_id, Conversation.work_kind, func.count(),
                   func.min(Conversation.queued_at))
            .where(Conversation.workspace_id == workspace_id,
                   Conversation.team_id.is_not(None), Conversation.assignee_id.is_(None),
                   Conversation.status.in_((Status.OPEN, Status.PENDING)),
                   Conversation.merged_into_id.is_(None))
            .group_by(Conversation.team_id, Conversation.work_kind)):
        row = waiting.get(team_id) if team_id is not None else None
        if row is None:
            continue
        row["n"] += int(count)
        if kind in (REALTIME, DELAYED):
            row[kind] += int(count)
        if oldest is not None and (row["oldest"] is None or oldest < row["oldest"]):
            row["oldest"] = oldest
    queues = [QueueRow(team_id=t.id, team=t.name, waiting=waiting[t.id]["n"],
                       oldest_minutes=int((now - waiting[t.id]["oldest"]).total_seconds() // 60)
                       if waiting[t.id]["oldest"] is not None else None,
                       realtime=waiting[t.id][REALTIME], delayed=waiting[t.id][DELAYED])
              for t in teams]
    return Board(queues=queues, agents=profiles(session, workspace_id))


def save_team_form(session: Session, workspace_id: uuid.UUID, fields: dict[str, str],
                   member_ids: list[str], actor: Actor,
                   team_id: uuid.UUID | None = None) -> Team:
    """A team from the settings form: name, skills (words), language required, members
    (agent ids ticked). Same checks as the API."""
    data = parse(TeamIn, {"name": fields.get("name", ""),
                          "skills": words(fields.get("skills", "")),
                          "language_required": fields.get("language_required") == "on",
                          "members": [{"agent_id": m} for m in member_ids[:500]]},
                 "invalid_team")
    if team_id is None:
        return create_team(session, workspace_id, data, actor)
    return update_team(session, workspace_id, team_id, data, actor)


def save_profile_form(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID,
                      fields: dict[str, str], actor: Actor) -> Agent:
    raw: dict[str, Any] = {"skills": words(fields.get("skills", ""))}
    for name in ("capacity_realtime", "capacity_delayed"):
        value = fields.get(name, "").strip()
        raw[name] = int(value) if value.lstrip("-").isdigit() and len(value) < 10 else (
            value or None)
    return update_profile(session, workspace_id, agent_id,
                          parse(ProfileIn, raw, "invalid_profile"), actor)
