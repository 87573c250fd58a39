"""Desktop sign-in: password checks with throttling shared by every process (the counts live
in the database), server-side sessions, and agent administration. Never commits."""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from threadline.db.base import new_id, utcnow
from threadline.errors import RateLimited, Unauthorized, ValidationFailed
from threadline.events.service import audit
from threadline.workspace.models import Agent, AgentSession, LoginAttempt, Role
from threadline.workspace.service import verify_password


@dataclass(frozen=True)
class Throttle:
    """At most `per_email` failures per address and `per_client` per client in `window`."""

    per_email: int = 5
    per_client: int = 30
    window: timedelta = timedelta(minutes=15)


DEFAULT_THROTTLE = Throttle()
SESSION_TTL = timedelta(hours=12)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value.strip().lower()}".encode()).hexdigest()


def _check_throttle(session: Session, keys: dict[str, int], throttle: Throttle,
                    now: datetime) -> None:
    since = now - throttle.window
    for key, limit in keys.items():
        row = session.execute(
            select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at))
            .where(LoginAttempt.key == key, LoginAttempt.created_at >= since,
                   LoginAttempt.succeeded.is_(False))).one()
        failures, oldest = int(row[0] or 0), row[1]
        if failures >= limit:
            wait = (oldest + throttle.window - now).total_seconds() if oldest else 60.0
            raise RateLimited("too many failed sign-ins; try again later",
                              code="login_throttled",
                              details={"retry_after": max(1, math.ceil(wait))})


def sign_in(session: Session, email: str, password: str, *, client: str,
            throttle: Throttle = DEFAULT_THROTTLE) -> Agent | None:
    """The agent whose password matches, or None. Raises RateLimited (storing nothing) when
    the address or the client has failed too often; records every attempt otherwise."""
    now = utcnow()
    email_key, client_key = _key("email", email), _key("client", client)
    _check_throttle(session, {email_key: throttle.per_email, client_key: throttle.per_client},
                    throttle, now)
    candidates = list(session.scalars(select(Agent).where(
        Agent.email == email.strip().lower(), Agent.active.is_(True))))
    agent = next((a for a in candidates if verify_password(a, password)), None)
    ok = agent is not None
    session.add_all([LoginAttempt(id=new_id(), key=k, succeeded=ok, created_at=now)
                     for k in (email_key, client_key)])
    if agent is not None:
        # A success clears the address's failures (not the client's).
        session.execute(delete(LoginAttempt).where(LoginAttempt.key == email_key,
                                                   LoginAttempt.succeeded.is_(False)))
        audit(session, agent.workspace_id, "agent.signed_in", "agent", agent.id,
              actor_type="agent", actor_id=str(agent.id))
    session.flush()
    return agent


def start_session(session: Session, agent: Agent, *, ttl: timedelta = SESSION_TTL,
                  ) -> AgentSession:
    record = AgentSession(id=new_id(), workspace_id=agent.workspace_id, agent_id=agent.id,
                          expires_at=utcnow() + ttl)
    session.add(record)
    session.flush()
    return record


def resolve_session(session: Session, session_id: uuid.UUID) -> tuple[AgentSession, Agent]:
    row = session.execute(select(AgentSession, Agent).join(Agent, Agent.id == AgentSession.agent_id)
                          .where(AgentSession.id == session_id)).first()
    if row is None:
        raise Unauthorized("please sign in", code="no_session")
    record, agent = row
    if record.revoked_at is not None or record.expires_at <= utcnow() or not agent.active:
        raise Unauthorized("your session has ended; please sign in again",
                           code="session_ended")
    return record, agent


def end_session(session: Session, record: AgentSession) -> None:
    record.revoked_at = utcnow()
    audit(session, record.workspace_id, "agent.signed_out", "agent", record.agent_id,
          actor_type="agent", actor_id=str(record.agent_id))


# --- agent administration ---------------------------------------------------------------------


def list_agents(session: Session, workspace_id: uuid.UUID) -> list[Agent]:
    return list(session.scalars(select(Agent).where(Agent.workspace_id == workspace_id)
                                .order_by(Agent.name)))


def update_agent(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID, *,
                 role: str | None = None, active: bool | None = None,
                 team_id: uuid.UUID | None = None, actor_id: str | None = None) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or agent.workspace_id != workspace_id:
        raise ValidationFailed("agent not found", code="unknown_agent")
    changes: dict[str, str | bool | None] = {}
    if role is not None:
        if role not in Role.ALL:
            raise ValidationFailed(f"role must be one of {', '.join(Role.ALL)}")
        agent.role = role
        changes["role"] = role
    if active is not None:
        agent.active = active
        changes["active"] = active
        if not active:
            for record in session.scalars(select(AgentSession).where(
                    AgentSession.agent_id == agent.id, AgentSession.revoked_at.is_(None))):
                record.revoked_at = utcnow()
    if team_id is not None:
        agent.team_id = team_id
        changes["team_id"] = str(team_id)
    audit(session, workspace_id, "agent.updated", "agent", agent.id, actor_type="agent",
          actor_id=actor_id, data=changes)
    return agent
