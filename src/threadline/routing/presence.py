"""Presence: online, away or offline, set by the agent (the desktop's selector, the API).

An open desktop beats every minute (`heartbeat`, last_seen_at). The `routing.tick` job, every
THREADLINE_ROUTING_TICK_SECONDS, sets offline the agents not seen for
THREADLINE_PRESENCE_OFFLINE_AFTER_SECONDS, routes the conversations waiting in team queues,
and gives to another agent what the router assigned and nobody answered for
THREADLINE_ROUTING_REROUTE_AFTER_SECONDS (0: never).

Going offline hands the agent's real-time conversations the router gave him back to the queue
(routed again at once to another available agent); coming online routes his teams' queues.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from threadline.config import Settings
from threadline.conversations.models import Conversation, Message
from threadline.conversations.service import Actor
from threadline.db.base import utcnow
from threadline.db.locks import workspace_lock
from threadline.events.models import OutboxJob
from threadline.events.names import Live
from threadline.events.service import audit, ensure_pending, publish
from threadline.jobs.hooks import OPERATIONS_LOCK
from threadline.jobs.registry import Job, handler
from threadline.jobs.runtime import Runtime
from threadline.routing.models import TeamMember
from threadline.routing.schemas import PRESENCES
from threadline.routing.service import (
    REALTIME,
    ROUTABLE,
    drain_queues,
    reassign,
    teams_of,
)
from threadline.workspace.models import Agent

TICK_JOB = "routing.tick"
HEARTBEAT_EVERY = timedelta(seconds=20)  # a beat sooner than this writes nothing
REROUTE_LIMIT = 100


def hand_back(session: Session, agent: Agent, *, reason: str) -> int:
    """Give the real-time conversations the router assigned to `agent` to other available
    agents (else back to their team's queue). A person's assignment stays."""
    convs = list(session.scalars(
        select(Conversation).where(Conversation.assignee_id == agent.id,
                                   Conversation.workspace_id == agent.workspace_id,
                                   Conversation.work_kind == REALTIME,
                                   Conversation.routed_by == "router",
                                   Conversation.status.in_(ROUTABLE))
        .order_by(Conversation.last_message_at)))
    for conv in convs:
        reassign(session, conv, reason=reason, actor="routing")
    return len(convs)


def set_presence(session: Session, agent: Agent, presence: str, actor: Actor) -> Agent:
    """Set presence (online | away | offline); offline hands back his real-time work,
    online routes his teams' queues. Takes the workspace's operations lock."""
    if presence not in PRESENCES:
        raise ValueError(presence)
    workspace_lock(session, agent.workspace_id, OPERATIONS_LOCK)
    previous = agent.presence
    now = utcnow()
    if presence != "offline":
        agent.last_seen_at = now
    if previous == presence:
        return agent
    agent.presence = presence
    audit(session, agent.workspace_id, "agent.presence", "agent", agent.id,
          actor_type=actor.type, actor_id=actor.id, data={"from": previous, "to": presence})
    publish(session, agent.workspace_id, Live.AGENT_PRESENCE,
            {"agent_id": str(agent.id), "presence": presence})
    session.flush()
    if presence == "offline":
        hand_back(session, agent, reason=f"{agent.name} went offline")
    elif presence == "online":
        drain_queues(session, agent.workspace_id, teams_of(session, agent.id))
    return agent


def heartbeat(session: Session, agent: Agent) -> None:
    """The agent's desktop is open."""
    now = utcnow()
    if agent.last_seen_at is None or now - agent.last_seen_at >= HEARTBEAT_EVERY:
        agent.last_seen_at = now


# --- the periodic job ------------------------------------------------------------------------


def schedule_tick(session: Session, *, delay: timedelta = timedelta(0),
                  exclude: int | None = None) -> OutboxJob | None:
    """Make sure one tick is pending (a run being executed does not count)."""
    return ensure_pending(session, TICK_JOB, delay=delay, exclude=exclude)


def tick_workspace(session: Session, workspace_id: uuid.UUID, settings: Settings,
                   now: datetime | None = None) -> dict[str, int]:
    """One workspace's tick, in the caller's transaction, under its operations lock."""
    workspace_lock(session, workspace_id, OPERATIONS_LOCK)
    now = now or utcnow()
    done = {"offline": 0, "rerouted": 0, "dequeued": 0}
    cutoff = now - timedelta(seconds=settings.presence_offline_after_seconds)
    for agent in session.scalars(select(Agent).where(
            Agent.workspace_id == workspace_id, Agent.presence != "offline",
            (Agent.last_seen_at.is_(None)) | (Agent.last_seen_at < cutoff))).all():
        set_presence(session, agent, "offline", Actor("system", "presence"))
        done["offline"] += 1
    if settings.routing_reroute_after_seconds > 0:
        waited = now - timedelta(seconds=settings.routing_reroute_after_seconds)
        answered = exists().where(Message.conversation_id == Conversation.id,
                                  Message.direction == "outbound",
                                  Message.created_at >= Conversation.routed_at)
        minutes = round(settings.routing_reroute_after_seconds / 60)
        for conv in session.scalars(select(Conversation).where(
                Conversation.workspace_id == workspace_id, Conversation.routed_by == "router",
                Conversation.assignee_id.is_not(None), Conversation.status == "open",
                Conversation.routed_at < waited, ~answered)
                .order_by(Conversation.routed_at).limit(REROUTE_LIMIT)).all():
            if reassign(session, conv, reason=f"unanswered for {minutes} min",
                        actor="routing") is not None:
                done["rerouted"] += 1
    done["dequeued"] = drain_queues(session, workspace_id)
    return done


def routed_workspaces(session: Session) -> list[uuid.UUID]:
    """Workspaces with teams to route to, or agents not offline."""
    with_members = set(session.scalars(select(TeamMember.workspace_id).distinct()))
    present = set(session.scalars(select(Agent.workspace_id).where(
        Agent.presence != "offline").distinct()))
    return sorted(with_members | present)


def run_tick(runtime: Runtime, now: datetime | None = None) -> dict[str, Any]:
    """Tick every workspace, one transaction each."""
    with runtime.db.session(write=False) as session:
        workspaces = routed_workspaces(session)
    totals: dict[str, Any] = {"workspaces": len(workspaces), "offline": 0, "rerouted": 0,
                              "dequeued": 0}
    for workspace_id in workspaces:
        with runtime.db.session() as session:
            for key, value in tick_workspace(session, workspace_id, runtime.settings,
                                             now).items():
                totals[key] += value
    return totals


@handler(TICK_JOB)
def tick_job(runtime: Runtime, job: Job) -> None:
    run_tick(runtime)
    with runtime.db.session() as session:
        schedule_tick(session, delay=timedelta(seconds=runtime.settings.routing_tick_seconds),
                      exclude=job.id)
