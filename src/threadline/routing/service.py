"""Automatic assignment: which team, then which agent.

`route(session, conv)`: the first enabled routing rule whose conditions hold names the team
(else the team whose skills fit the conversation best: its language, channel, category, a
VIP customer; a conversation already in a team stays there). Within the team, an agent is
available when he is active, online, has free capacity for the kind of work (real-time: chat,
DMs, Messenger, WhatsApp, SMS, Telegram, phone; delayed: email, public posts and comments) and
every skill the conversation needs. The customer's previous agent (the last assignee of any of
his conversations, any channel) comes first when available; else the least loaded, ties by
longest idle. Nobody available: the conversation waits in the team's queue and is routed when
an agent frees up or comes online. Every decision is audited with a reason an admin reads
("rule 'billing' → team Billing → Ana: least loaded (0 of 3 real-time), has skill es").

The router only assigns unassigned conversations, with a conditional update (never twice),
and only ever takes back what it assigned itself: a person's assignment (`routed_by` "manual")
is never undone. Every decision runs under the workspace's operations lock (the hook's, or
taken here), so two workers never count the same free capacity twice.

`reassign(session, conv, reason=..., actor=...)` takes a conversation from its assignee and
routes it to another available agent (never the same one); the service levels' escalation
calls it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, bindparam, cast, func, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from threadline.conversations.models import Conversation, Status
from threadline.conversations.service import Actor, assign
from threadline.db.base import utcnow
from threadline.db.locks import workspace_lock
from threadline.events.names import Live
from threadline.events.service import ConversationEvent, audit_many, conversation_event, publish
from threadline.jobs.hooks import OPERATIONS_LOCK, ROUTING, ConversationEvents, conversation_hook
from threadline.routing.conditions import (
    Condition,
    Facts,
    facts_for,
    matches,
    parse_conditions,
)
from threadline.routing.models import RoutingRule, TeamMember
from threadline.routing.schemas import LANGUAGE_SKILL
from threadline.workspace.models import Agent, Team

if TYPE_CHECKING:
    from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.routing")

REALTIME = "realtime"
DELAYED = "delayed"
ROUTED_ACTION = "routing.decided"
ROUTER = Actor("system", "routing")
LOAD_STATUSES = (Status.OPEN, Status.PENDING)  # what counts against capacity
ROUTABLE = (Status.OPEN, Status.PENDING)
ROUTE_ON = frozenset({ConversationEvent.CREATED, ConversationEvent.MESSAGE_RECEIVED,
                      ConversationEvent.REOPENED})
DRAIN_LIMIT = 50
MAX_REASON = 400
_KIND_LABEL = {REALTIME: "real-time", DELAYED: "delayed"}


def work_kind(channel: str | None, visibility: str | None) -> str:
    """Email and public posts or comments can wait (delayed); chat, DMs, Messenger,
    WhatsApp, SMS, Telegram and phone cannot (real-time)."""
    if channel == "email" or visibility == "public":
        return DELAYED
    return REALTIME


def capacity_of(agent: Agent, kind: str) -> int:
    return int(agent.capacity_realtime if kind == REALTIME else agent.capacity_delayed)


def loads(session: Session, agent_ids: Collection[uuid.UUID], kind: str) -> dict[uuid.UUID, int]:
    """Active conversations of one kind per agent: one grouped count on the load index."""
    if not agent_ids:
        return {}
    return {agent_id: int(count) for agent_id, count in session.execute(  # type: ignore[misc]
        select(Conversation.assignee_id, func.count())
        .where(Conversation.assignee_id.in_(list(agent_ids)), Conversation.work_kind == kind,
               Conversation.status.in_(LOAD_STATUSES))
        .group_by(Conversation.assignee_id))}


@dataclass(frozen=True)
class TeamRef:
    id: uuid.UUID
    name: str
    language_required: bool

    @classmethod
    def of(cls, team: Team) -> TeamRef:
        return cls(team.id, team.name, bool(team.language_required))


@dataclass(frozen=True)
class Target:
    team: TeamRef
    required: list[str]
    why: str  # "rule 'billing' → team Billing"
    rule_id: uuid.UUID | None = None


def _vip(facts: Facts) -> bool:
    flag = facts.customer.get("vip")
    return (bool(flag) and str(flag).lower() not in ("false", "0", "no")) or any(
        label.lower() == "vip" for label in facts.labels)


def _fitting_team(session: Session, conv: Conversation, facts: Facts) -> tuple[Team, str] | None:
    """The team whose skills fit the conversation best (at least one skill), by name."""
    wanted = {s for s in (facts.language, f"channel:{facts.channel}" if facts.channel else None,
                          f"category:{facts.category}" if facts.category else None,
                          "vip" if _vip(facts) else None) if s}
    if not wanted:
        return None
    best: tuple[int, str, Team, list[str]] | None = None
    for team in session.scalars(select(Team).where(Team.workspace_id == conv.workspace_id)
                                .order_by(Team.name)):
        hits = [s for s in team.skills or () if s in wanted]
        if hits and (best is None or len(hits) > best[0]):
            best = (len(hits), team.name, team, hits)
    if best is None:
        return None
    return best[2], f"skill {', '.join(best[3])}"


_parsed: dict[tuple[uuid.UUID, datetime], list[Condition]] = {}
# the enabled rules in order, with their team (one statement, built once)
_RULES = (select(RoutingRule.id, RoutingRule.name, RoutingRule.updated_at,
                 RoutingRule.conditions, RoutingRule.team_id, RoutingRule.required_skills,
                 Team.name.label("team_name"), Team.language_required)
          .join(Team, Team.id == RoutingRule.team_id)
          .where(RoutingRule.workspace_id == bindparam("workspace_id"),
                 RoutingRule.enabled.is_(True))
          .order_by(RoutingRule.position, RoutingRule.created_at))


def _conditions(rule: Any) -> list[Condition]:
    """A rule's conditions, validated once per version of the rule (per process)."""
    key = (rule.id, rule.updated_at)
    found = _parsed.get(key)
    if found is None:
        if len(_parsed) > 10_000:
            _parsed.clear()
        found = _parsed[key] = parse_conditions(rule.conditions)
    return found


def _target(session: Session, conv: Conversation, facts: Facts) -> Target | None:
    team: Team | None = None
    required: list[str] = []
    if conv.team_id is not None:
        team = session.get(Team, conv.team_id)
        if team is not None and team.workspace_id == conv.workspace_id:
            why = f"team {team.name} (already set)"
            required = [s for s in conv.required_skills or () if isinstance(s, str)]
            return _with_language(Target(TeamRef.of(team), required, why), conv)
    for rule in session.connection().execute(_RULES, {"workspace_id": conv.workspace_id}):
        try:
            conditions = _conditions(rule)
        except ValueError:  # stored before a check it now fails: skipped, never blocking
            continue
        if matches(conditions, facts):
            ref = TeamRef(rule.team_id, rule.team_name, bool(rule.language_required))
            required = [str(s) for s in rule.required_skills or ()]
            return _with_language(Target(ref, required, f"rule '{rule.name}' → team "
                                         f"{ref.name}", rule.id), conv)
    fitting = _fitting_team(session, conv, facts)
    if fitting is None:
        return None
    team, why = fitting
    return _with_language(Target(TeamRef.of(team), [],
                                 f"no rule matched → team {team.name} ({why})"), conv)


def _with_language(target: Target, conv: Conversation) -> Target:
    """"language" in the required skills (or a team that requires it) is the conversation's
    language; unknown language: not required."""
    required = [s for s in target.required if s != LANGUAGE_SKILL]
    if (LANGUAGE_SKILL in target.required or target.team.language_required) and conv.language:
        required.append(conv.language.lower())
    return Target(target.team, list(dict.fromkeys(required)), target.why, target.rule_id)


@dataclass(frozen=True)
class Candidate:
    """A team member as the router reads him: plain columns, his skills as the stored JSON
    text (skills are validated slugs, so `"es"` in the text is the skill es), and his load
    of the kind of work at hand."""

    id: uuid.UUID
    name: str
    presence: str
    skills_json: str
    capacity: int
    load: int
    last_assigned_at: datetime | None
    previous: bool = False  # the customer's previous agent

    def has(self, skills: Collection[str]) -> bool:
        return all(f'"{skill}"' in self.skills_json for skill in skills)


@dataclass(frozen=True)
class Choice:
    agent: Candidate | None
    how: str  # "Ana: least loaded (0 of 3 real-time), has skill es" | "nobody available: …"


def previous_agent(session: Session, conv: Conversation) -> uuid.UUID | None:
    """The last assignee of any of the customer's conversations (any channel); a customer is
    of one workspace, so his id alone picks his conversations (the customer index)."""
    if conv.customer_id is None:
        return None
    return session.scalar(
        select(Conversation.assignee_id)
        .where(Conversation.customer_id == conv.customer_id, Conversation.id != conv.id,
               Conversation.assignee_id.is_not(None))
        .order_by(Conversation.last_message_at.desc()).limit(1))


def _members_statement(kind: str) -> Any:
    """Built once per kind (bound parameters: team, workspace), so a decision does not pay
    for building and keying the statement."""
    team: Any = bindparam("team_id")
    workspace: Any = bindparam("workspace_id")
    load = (select(TeamMember.agent_id, func.count().label("n"))
            .join(Conversation, Conversation.assignee_id == TeamMember.agent_id)
            .where(TeamMember.team_id == team, Conversation.work_kind == kind,
                   Conversation.status.in_(LOAD_STATUSES))
            .group_by(TeamMember.agent_id).subquery())
    capacity = Agent.capacity_realtime if kind == REALTIME else Agent.capacity_delayed
    earlier = aliased(Conversation)
    previous = (select(earlier.assignee_id)
                .where(earlier.customer_id == bindparam("customer_id"),
                       earlier.id != bindparam("conv_id"), earlier.assignee_id.is_not(None))
                .order_by(earlier.last_message_at.desc()).limit(1).scalar_subquery())
    return (select(Agent.id, Agent.name, Agent.presence, cast(Agent.skills, Text).label("own"),
                   cast(TeamMember.skills, Text).label("extra"), capacity,
                   Agent.last_assigned_at, func.coalesce(load.c.n, 0),
                   (Agent.id == previous).label("previous"))
            .join(TeamMember, TeamMember.agent_id == Agent.id)
            .outerjoin(load, load.c.agent_id == Agent.id)
            .where(TeamMember.team_id == team, Agent.workspace_id == workspace,
                   Agent.active.is_(True)))


_MEMBERS = {kind: _members_statement(kind) for kind in (REALTIME, DELAYED)}


def members_of(session: Session, conv: Conversation, team_id: uuid.UUID,
               kind: str) -> list[Candidate]:
    """The team's active members with their load of `kind` and whether each is the
    customer's previous agent: one query, the load one grouped count over the load index
    (team members -> their open and pending conversations)."""
    rows = session.connection().execute(  # Core rows: no ORM work per member
        _MEMBERS[kind], {"team_id": team_id, "workspace_id": conv.workspace_id,
                         "customer_id": conv.customer_id, "conv_id": conv.id})
    return [Candidate(id=agent_id, name=name, presence=presence,
                      skills_json=f"{own or ''}{extra or ''}", capacity=int(cap),
                      load=int(n), last_assigned_at=last, previous=bool(previous))
            for agent_id, name, presence, own, extra, cap, last, n, previous in rows]


def _choose(session: Session, conv: Conversation, target: Target, kind: str,
            exclude: Collection[uuid.UUID]) -> Choice:
    members = members_of(session, conv, target.team.id, kind)
    if not members:
        return Choice(None, "nobody available: the team has no members")
    online = [m for m in members if m.presence == "online" and m.id not in exclude]
    skilled = [m for m in online if m.has(target.required)]
    free = [m for m in skilled if m.load < m.capacity]
    if not free:
        parts = [f"{len(members)} member{'s' if len(members) != 1 else ''}",
                 f"{len(online)} online"]
        if target.required:
            parts.append(f"{len(skilled)} with {', '.join(target.required)}")
        parts.append(f"{len(skilled) - len(free)} at capacity")
        return Choice(None, f"nobody available ({', '.join(parts)})")
    label = _KIND_LABEL[kind]
    skills = (f", has skill{'s' if len(target.required) > 1 else ''} "
              f"{', '.join(target.required)}" if target.required else "")
    for agent in free:
        if agent.previous:
            return Choice(agent, f"{agent.name}: handled this customer before "
                                 f"({agent.load} of {agent.capacity} {label}){skills}")
    epoch = datetime.min.replace(tzinfo=utcnow().tzinfo)
    agent = min(free, key=lambda a: (a.load, a.last_assigned_at or epoch, a.name, str(a.id)))
    return Choice(agent, f"{agent.name}: least loaded ({agent.load} of {agent.capacity} "
                         f"{label}){skills}")


_CLAIMED = ("assignee_id", "team_id", "work_kind", "required_skills", "routed_by",
            "routed_reason", "routed_at", "queued_at", "updated_at")
# the assignment: only if still unassigned (a person's or another worker's wins)
_CLAIM = (update(Conversation).where(Conversation.id == bindparam("conv_id"),
                                     Conversation.assignee_id.is_(None))
          .values({name: bindparam(name) for name in _CLAIMED}))
_LAST_ASSIGNED = (update(Agent).where(Agent.id == bindparam("agent_id"))
                  .values(last_assigned_at=bindparam("at")))


def route(session: Session, conv: Conversation, *, exclude: Collection[uuid.UUID] = (),
          because: str | None = None, actor: Actor = ROUTER) -> uuid.UUID | None:
    """Assign an unassigned active conversation (see the module's doc); returns the agent's
    id, or None when it waits in its team's queue (or no team takes it). Call under the
    workspace's operations lock (the ROUTING hook holds it)."""
    if (conv.assignee_id is not None or conv.status not in ROUTABLE
            or conv.merged_into_id is not None):
        return None
    facts = facts_for(session, conv)
    kind = work_kind(facts.channel, facts.visibility)
    target = _target(session, conv, facts)
    if target is None:
        if conv.work_kind != kind:
            conv.work_kind = kind
        return None  # no rule and no team fit: it stays for anyone to pick
    now = utcnow()
    choice = _choose(session, conv, target, kind, exclude)
    prefix = f"{because}: " if because else ""
    if choice.agent is None:
        reason = f"{prefix}{target.why} → queue: {choice.how}"[:MAX_REASON]
        conv.work_kind, conv.team_id, conv.required_skills = kind, target.team.id, target.required
        if conv.queued_at is None:
            conv.queued_at = now
        if conv.routed_reason != reason:  # the same wait is recorded once
            conv.routed_reason = reason
            _decided(session, conv, reason, target, None, actor)
        return None
    agent = choice.agent
    reason = f"{prefix}{target.why} → {choice.how}"[:MAX_REASON]
    values = {"assignee_id": agent.id, "team_id": target.team.id, "work_kind": kind,
              "required_skills": target.required, "routed_by": "router",
              "routed_reason": reason, "routed_at": now, "queued_at": None, "updated_at": now}
    if conv in session.dirty:
        session.flush()
    claimed: Any = session.connection().execute(_CLAIM, {"conv_id": conv.id, **values})
    if int(claimed.rowcount or 0) != 1:  # someone assigned it meanwhile: theirs wins
        session.refresh(conv)
        return None
    for key, value in values.items():
        set_committed_value(conv, key, value)
    session.connection().execute(_LAST_ASSIGNED, {"agent_id": agent.id, "at": now})
    cached = session.identity_map.get(identity_key(Agent, agent.id))
    if cached is not None:
        set_committed_value(cached, "last_assigned_at", now)
    _assigned(session, conv, agent.id, actor, also=_decision(conv, reason, target, agent.id,
                                                          actor))
    log.info("routed", extra={"conversation_id": str(conv.id), "team_id": str(target.team.id),
                              "agent_id": str(agent.id)})
    return agent.id


def _assigned(session: Session, conv: Conversation, agent_id: uuid.UUID | None,
              actor: Actor, also: dict[str, Any]) -> None:
    """What `conversations.service.assign` records, for an assignment made here (with the
    router's decision `also`, in one insert)."""
    audit_many(session, [{"workspace_id": conv.workspace_id, "action": "conversation.assigned",
                          "subject_type": "conversation", "subject_id": str(conv.id),
                          "actor_type": actor.type, "actor_id": actor.id,
                          "data": {"assignee_id": str(agent_id) if agent_id else None}},
                         also])
    publish(session, conv.workspace_id, Live.CONVERSATION_UPDATED,
            {"conversation_id": str(conv.id), "action": "conversation.assigned",
             "status": conv.status})
    conversation_event(session, conv.workspace_id, conv.id, ConversationEvent.ASSIGNED,
                       assignee_id=str(agent_id) if agent_id else None,
                       team_id=str(conv.team_id) if conv.team_id else None, by=actor.type)


def _decision(conv: Conversation, reason: str, target: Target, agent_id: uuid.UUID | None,
              actor: Actor) -> dict[str, Any]:
    return {"workspace_id": conv.workspace_id, "action": ROUTED_ACTION,
            "subject_type": "conversation", "subject_id": str(conv.id),
            "actor_type": actor.type, "actor_id": actor.id,
            "data": {"reason": reason, "team_id": str(target.team.id),
                     "assignee_id": str(agent_id) if agent_id else None,
                     "rule_id": str(target.rule_id) if target.rule_id else None,
                     "required_skills": target.required, "work_kind": conv.work_kind}}


def _decided(session: Session, conv: Conversation, reason: str, target: Target,
             agent_id: uuid.UUID | None, actor: Actor) -> None:
    audit_many(session, [_decision(conv, reason, target, agent_id, actor)])


def release(session: Session, conv: Conversation, *, reason: str, actor: Actor) -> bool:
    """Take the conversation from its assignee (back to its team's queue)."""
    previous = conv.assignee_id
    if previous is None:
        return False
    session.flush()
    taken: Any = session.execute(
        update(Conversation).where(Conversation.id == conv.id,
                                   Conversation.assignee_id == previous)
        .values(assignee_id=None).execution_options(synchronize_session=False))
    if int(taken.rowcount or 0) != 1:
        session.refresh(conv)
        return False
    set_committed_value(conv, "assignee_id", None)
    assign(session, conv, None, actor)
    conv.routed_by = None
    conv.queued_at = utcnow()
    conv.routed_reason = reason[:MAX_REASON]
    return True


def reassign(session: Session, conv: Conversation, *, reason: str,
             actor: str = "system") -> uuid.UUID | None:
    """Take `conv` from its current assignee and route it to another available agent (never
    the same one). Returns the new assignee's id, or None when it is left in the team queue.
    The service levels' breach escalation calls exactly this."""
    workspace_lock(session, conv.workspace_id, OPERATIONS_LOCK)
    who = Actor("system", actor if actor != "system" else ROUTER.id)
    previous = conv.assignee_id
    if previous is not None and not release(session, conv, reason=reason, actor=who):
        return None
    exclude = {previous} if previous is not None else set()
    return route(session, conv, exclude=exclude, because=reason, actor=who)


def drain_queues(session: Session, workspace_id: uuid.UUID,
                 team_ids: Iterable[uuid.UUID] | None = None, *,
                 limit: int = DRAIN_LIMIT) -> int:
    """Route the oldest waiting conversations of these teams (all teams: None); a kind and
    skills that found nobody are not tried again in the same pass. Returns how many went."""
    stmt = (select(Conversation).where(Conversation.workspace_id == workspace_id,
                                       Conversation.assignee_id.is_(None),
                                       Conversation.team_id.is_not(None),
                                       Conversation.status.in_(ROUTABLE),
                                       Conversation.merged_into_id.is_(None),
                                       Conversation.queued_at.is_not(None))
            .order_by(Conversation.queued_at, Conversation.id).limit(limit))
    if team_ids is not None:
        teams = list(set(team_ids))
        if not teams:
            return 0
        stmt = stmt.where(Conversation.team_id.in_(teams))
    routed = 0
    stuck: set[tuple[Any, ...]] = set()
    for conv in session.scalars(stmt).all():
        key = (conv.team_id, conv.work_kind, tuple(conv.required_skills or ()))
        if key in stuck:
            continue
        if route(session, conv, because="waiting in the queue") is None:
            stuck.add(key)
        else:
            routed += 1
    return routed


def teams_of(session: Session, agent_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.scalars(select(TeamMember.team_id).where(
        TeamMember.agent_id == agent_id)))


@conversation_hook(ROUTING, "routing")
def route_on_events(_runtime: Runtime, session: Session, batch: ConversationEvents) -> None:
    """Route an unassigned active conversation when it is created, gets a message or is
    reopened; when a conversation stops counting against its agent (resolved, snoozed, taken
    by a person), route the oldest waiting ones of its team and of that agent's teams."""
    conv = session.get(Conversation, batch.conversation_id)
    if conv is None or conv.workspace_id != batch.workspace_id:
        return
    statuses = [str(e.get("to")) for e in batch.of(ConversationEvent.STATUS_CHANGED)]
    reopened = ConversationEvent.REOPENED in batch.names or any(s in ROUTABLE
                                                                for s in statuses)
    if batch.names & ROUTE_ON or reopened:
        if conv.assignee_id is None:
            route(session, conv)
        elif reopened and conv.routed_by == "router":
            _back_to_someone_present(session, conv)
        elif conv.work_kind is None:
            conv.work_kind = work_kind(conv.origin_channel, conv.origin_visibility)
    freed = any(s not in ROUTABLE for s in statuses) or any(
        e.get("by") in ("agent", "token") for e in batch.of(ConversationEvent.ASSIGNED))
    if freed:
        teams = set(teams_of(session, conv.assignee_id)) if conv.assignee_id else set()
        if conv.team_id is not None:
            teams.add(conv.team_id)
        drain_queues(session, conv.workspace_id, teams)


def _back_to_someone_present(session: Session, conv: Conversation) -> None:
    """A conversation the router gave to an agent who is no longer online comes back
    (reopened): to another available agent, else the queue."""
    agent = session.get(Agent, conv.assignee_id) if conv.assignee_id else None
    if agent is not None and agent.presence != "online":
        reassign(session, conv, reason=f"reopened while {agent.name} is {agent.presence}",
                 actor=str(ROUTER.id))
