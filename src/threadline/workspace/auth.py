"""Desktop sign-in: password and second-factor checks (throttled, workspace/throttle.py),
server-side sessions with their sign-in steps, and agent administration. Never commits.

A sign-in goes through the steps that apply to the agent, in this order, each on its own
short session that can do nothing else: a TOTP code (second factor enabled), a new password
(the password is a one-time password), TOTP enrolment (the workspace requires a second factor
for the agent's role). Only then does the agent get a full session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.config import Settings
from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, Unauthorized, ValidationFailed
from threadline.events.service import audit
from threadline.workspace import throttle as guard
from threadline.workspace import totp
from threadline.workspace.models import Agent, AgentSession, Role, Workspace
from threadline.workspace.service import spend_password_check, verify_password

SESSION_TTL = timedelta(hours=12)
STEP_TTL = timedelta(minutes=15)
ONE_TIME_TTL = timedelta(hours=72)
MAX_SUBMITTED_PASSWORD = 1024  # longer is a wrong password, not worth hashing


class Stage:
    TOTP = "totp"
    PASSWORD = "password"  # noqa: S105 - a step name, not a secret
    ENROL = "enrol"
    ORDER = (TOTP, PASSWORD, ENROL)


@dataclass(frozen=True)
class AccountPolicy:
    """What the sign-in needs from the settings."""

    secret_key: str = field(repr=False)
    throttle: guard.Throttle = field(default_factory=guard.Throttle)
    one_time_ttl: timedelta = ONE_TIME_TTL

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountPolicy:
        return cls(secret_key=settings.resolved_secret_key(),
                   throttle=guard.Throttle.from_settings(settings),
                   one_time_ttl=timedelta(hours=settings.one_time_password_hours))


class CredentialRefused(Unauthorized):
    """A wrong password or code. The failure is recorded in the session before this is
    raised: the caller commits it (it is the throttle's memory)."""

    code = "wrong_credentials"


def sign_in(session: Session, email: str, password: str, *, client: str,
            policy: AccountPolicy) -> AgentSession:
    """Check a password; returns the new session (full, or held at its first step).
    Raises RateLimited (storing nothing) when throttled, CredentialRefused when wrong."""
    now = utcnow()
    keys = guard.Keys.of(email, client)
    guard.prune(session, policy.throttle, now)
    guard.check(session, keys, policy.throttle, now)
    agent = None
    if len(password) <= MAX_SUBMITTED_PASSWORD:
        candidates = list(session.scalars(select(Agent).where(
            Agent.email == email.strip().lower(), Agent.active.is_(True))))
        agent = next((a for a in candidates if verify_password(a, password)), None)
        if not candidates:
            spend_password_check(password)
    if agent is None:
        guard.record_failure(session, keys, now)
        raise CredentialRefused("wrong email or password")
    if agent.password_one_time_until is not None and agent.password_one_time_until <= now:
        raise Unauthorized("this one-time password has expired; ask an admin for a new one",
                           code="password_expired")
    return _enter(session, agent, done=None, keys=keys, now=now)


def requires_totp(workspace: Workspace, agent: Agent) -> bool:
    """The workspace requires a second factor of its admins and supervisors."""
    return bool((workspace.settings or {}).get("require_totp")) and \
        Role.RANK[agent.role] >= Role.RANK[Role.SUPERVISOR]


def _next_stage(session: Session, agent: Agent, done: str | None) -> str | None:
    workspace = session.get(Workspace, agent.workspace_id)
    applies = {
        Stage.TOTP: agent.totp_enabled_at is not None,
        Stage.PASSWORD: agent.password_one_time_until is not None,
        Stage.ENROL: workspace is not None and requires_totp(workspace, agent)
        and agent.totp_enabled_at is None,
    }
    start = Stage.ORDER.index(done) + 1 if done else 0
    return next((s for s in Stage.ORDER[start:] if applies[s]), None)


def _enter(session: Session, agent: Agent, *, done: str | None, keys: guard.Keys,
           now: datetime) -> AgentSession:
    stage = _next_stage(session, agent, done)
    record = start_session(session, agent, stage=stage)
    if stage is None:
        guard.record_success(session, keys, now)
        audit(session, agent.workspace_id, "agent.signed_in", "agent", agent.id,
              actor_type="agent", actor_id=str(agent.id))
    return record


def advance(session: Session, record: AgentSession, agent: Agent, *, client: str,
            ) -> AgentSession:
    """The step of `record` is done: a new session for the next step (or a full one)."""
    record.revoked_at = utcnow()
    return _enter(session, agent, done=record.stage, keys=guard.Keys.of(agent.email, client),
                  now=utcnow())


def check_code(session: Session, agent: Agent, code: str, *, client: str,
               policy: AccountPolicy) -> None:
    """Accept a TOTP code of the agent's secret (enabled or being enrolled) once; throttled
    like passwords, on the same counts."""
    now = utcnow()
    keys = guard.Keys.of(agent.email, client)
    guard.check(session, keys, policy.throttle, now)
    secret = totp.unseal(agent.totp_secret, policy.secret_key) if agent.totp_secret else None
    step = totp.matching_step(secret, code, now, agent.totp_last_step) if secret else None
    if step is None:
        guard.record_failure(session, keys, now)
        raise CredentialRefused("wrong or already used code", code="wrong_code")
    agent.totp_last_step = step


def check_current_password(session: Session, agent: Agent, password: str, *, client: str,
                           policy: AccountPolicy) -> None:
    """Proof of the current password for a change; throttled like a sign-in."""
    now = utcnow()
    keys = guard.Keys.of(agent.email, client)
    guard.check(session, keys, policy.throttle, now)
    if len(password) > MAX_SUBMITTED_PASSWORD or not verify_password(agent, password):
        guard.record_failure(session, keys, now)
        raise CredentialRefused("the current password is wrong", code="wrong_password")


def second_factor(session: Session, record: AgentSession, agent: Agent, code: str, *,
                  client: str, policy: AccountPolicy) -> AgentSession:
    check_code(session, agent, code, client=client, policy=policy)
    return advance(session, record, agent, client=client)


# --- sessions ---------------------------------------------------------------------------------


def start_session(session: Session, agent: Agent, *, stage: str | None = None,
                  ) -> AgentSession:
    record = AgentSession(id=new_id(), workspace_id=agent.workspace_id, agent_id=agent.id,
                          expires_at=utcnow() + (STEP_TTL if stage else SESSION_TTL),
                          stage=stage)
    session.add(record)
    session.flush()
    return record


def load_session(session: Session, session_id: uuid.UUID) -> tuple[AgentSession, Agent]:
    """A live session (full or at a step) and its agent."""
    row = session.execute(select(AgentSession, Agent).join(Agent, Agent.id == AgentSession.agent_id)
                          .where(AgentSession.id == session_id)).first()
    if row is None:
        raise Unauthorized("please sign in", code="no_session")
    record, agent = row
    if record.revoked_at is not None or record.expires_at <= utcnow() or not agent.active:
        raise Unauthorized("your session has ended; please sign in again",
                           code="session_ended")
    return record, agent


def resolve_session(session: Session, session_id: uuid.UUID, *, stage: str | None = None,
                    ) -> tuple[AgentSession, Agent]:
    """A live session at exactly `stage` (None: a full session)."""
    record, agent = load_session(session, session_id)
    if record.stage != stage:
        raise Unauthorized("finish signing in first", code="sign_in_incomplete")
    return record, agent


def end_session(session: Session, record: AgentSession) -> None:
    record.revoked_at = utcnow()
    audit(session, record.workspace_id, "agent.signed_out", "agent", record.agent_id,
          actor_type="agent", actor_id=str(record.agent_id))


def revoke_sessions(session: Session, agent_id: uuid.UUID, *, full_only: bool = False) -> int:
    """End every live session of an agent (or only its full ones); returns how many."""
    stmt = select(AgentSession).where(AgentSession.agent_id == agent_id,
                                      AgentSession.revoked_at.is_(None))
    if full_only:
        stmt = stmt.where(AgentSession.stage.is_(None))
    now, count = utcnow(), 0
    for record in session.scalars(stmt):
        record.revoked_at, count = now, count + 1
    return count


# --- agent administration ---------------------------------------------------------------------


def access_agent(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or agent.workspace_id != workspace_id:
        raise NotFound("agent not found", code="unknown_agent")
    return agent


def list_agents(session: Session, workspace_id: uuid.UUID) -> list[Agent]:
    return list(session.scalars(select(Agent).where(Agent.workspace_id == workspace_id)
                                .order_by(Agent.name)))


def update_agent(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID, *,
                 role: str | None = None, active: bool | None = None,
                 team_id: uuid.UUID | None = None, actor_id: str | None = None) -> Agent:
    agent = access_agent(session, workspace_id, agent_id)
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
            revoke_sessions(session, agent.id)
    if team_id is not None:
        agent.team_id = team_id
        changes["team_id"] = str(team_id)
    audit(session, workspace_id, "agent.updated", "agent", agent.id, actor_type="agent",
          actor_id=actor_id, data=changes)
    return agent
