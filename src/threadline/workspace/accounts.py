"""An agent's credentials over time: password change and admin reset, the TOTP second factor
(enrol, confirm, disable, admin reset) and the workspace's requirement of it. Never commits;
the audit records who did what, never a password, a secret or a code."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.db.base import utcnow
from threadline.errors import Conflict, Forbidden, ValidationFailed
from threadline.events.service import audit
from threadline.workspace import totp
from threadline.workspace.auth import (
    AccountPolicy,
    access_agent,
    check_code,
    check_current_password,
    requires_totp,
    revoke_sessions,
)
from threadline.workspace.models import Agent, Role, Workspace
from threadline.workspace.passwords import check_strength, one_time_password
from threadline.workspace.service import hash_password, verify_password


def change_password(session: Session, agent: Agent, new: str, *, current: str | None,
                    client: str, policy: AccountPolicy) -> None:
    """Replace the agent's password. `current` is required unless the agent is at the
    forced-change step of a sign-in (he has just given his one-time password). Every session
    of the agent ends; the caller starts the one of this browser."""
    if current is not None:
        check_current_password(session, agent, current, client=client, policy=policy)
    check_strength(new, agent.email)
    if verify_password(agent, new):
        raise ValidationFailed("choose a password different from the current one",
                               code="password_unchanged")
    agent.password_hash = hash_password(new)
    agent.password_one_time_until = None
    ended = revoke_sessions(session, agent.id)
    audit(session, agent.workspace_id, "agent.password_changed", "agent", agent.id,
          actor_type="agent", actor_id=str(agent.id), data={"sessions_ended": ended})


def reset_password(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID, *,
                   policy: AccountPolicy, actor_type: str, actor_id: str | None,
                   ) -> tuple[Agent, str]:
    """An admin (or the command line) gives an agent of his workspace a new one-time
    password; every session of the agent ends. Returns the password, to be shown once."""
    agent = access_agent(session, workspace_id, agent_id)
    password = one_time_password()
    agent.password_hash = hash_password(password)
    agent.password_one_time_until = utcnow() + policy.one_time_ttl
    ended = revoke_sessions(session, agent.id)
    audit(session, workspace_id, "agent.password_reset", "agent", agent.id,
          actor_type=actor_type, actor_id=actor_id, data={"sessions_ended": ended})
    return agent, password


# --- second factor ----------------------------------------------------------------------------


def begin_totp(session: Session, agent: Agent, *, policy: AccountPolicy) -> str:
    """A new secret, kept sealed and pending until confirmed with a code; returns it."""
    if Role.RANK[agent.role] < Role.RANK[Role.SUPERVISOR]:
        raise Forbidden("a second factor is for admins and supervisors",
                        code="insufficient_role")
    if agent.totp_enabled_at is not None:
        raise Conflict("a second factor is already set up; disable it first",
                       code="totp_enabled")
    secret = totp.new_secret()
    agent.totp_secret = totp.seal(secret, policy.secret_key)
    agent.totp_last_step = None
    session.flush()
    return secret


def pending_totp(agent: Agent, policy: AccountPolicy) -> str | None:
    """The secret being enrolled (to show again), if any."""
    if agent.totp_enabled_at is not None or not agent.totp_secret:
        return None
    return totp.unseal(agent.totp_secret, policy.secret_key)


def confirm_totp(session: Session, agent: Agent, code: str, *, client: str,
                 policy: AccountPolicy) -> None:
    if pending_totp(agent, policy) is None:
        raise ValidationFailed("start setting up the second factor first", code="no_enrolment")
    check_code(session, agent, code, client=client, policy=policy)
    agent.totp_enabled_at = utcnow()
    audit(session, agent.workspace_id, "agent.totp_enabled", "agent", agent.id,
          actor_type="agent", actor_id=str(agent.id))


def disable_totp(session: Session, agent: Agent, code: str, *, client: str,
                 policy: AccountPolicy) -> None:
    if agent.totp_enabled_at is None:
        raise ValidationFailed("no second factor is set up", code="totp_not_enabled")
    workspace = session.get(Workspace, agent.workspace_id)
    if workspace is not None and requires_totp(workspace, agent):
        raise Forbidden("this workspace requires a second factor for your role",
                        code="totp_required")
    check_code(session, agent, code, client=client, policy=policy)
    _clear_totp(agent)
    audit(session, agent.workspace_id, "agent.totp_disabled", "agent", agent.id,
          actor_type="agent", actor_id=str(agent.id))


def reset_totp(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID, *,
               actor_type: str, actor_id: str | None) -> Agent:
    """An admin removes another agent's second factor (a lost phone); his sessions end."""
    agent = access_agent(session, workspace_id, agent_id)
    _clear_totp(agent)
    ended = revoke_sessions(session, agent.id)
    audit(session, workspace_id, "agent.totp_reset", "agent", agent.id,
          actor_type=actor_type, actor_id=actor_id, data={"sessions_ended": ended})
    return agent


def _clear_totp(agent: Agent) -> None:
    agent.totp_secret = None
    agent.totp_enabled_at = None
    agent.totp_last_step = None


def require_totp(session: Session, workspace_id: uuid.UUID, required: bool, *,
                 actor: Agent) -> int:
    """Require (or not) a second factor of the workspace's admins and supervisors. The admin
    who requires it must have one; the full sessions of those who have none end (they enrol
    at their next sign-in). Returns how many sessions ended."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None or actor.workspace_id != workspace_id:
        raise Forbidden("not your workspace", code="forbidden")
    if required and actor.totp_enabled_at is None:
        raise ValidationFailed("set up your own second factor first", code="enrol_first")
    workspace.settings = {**(workspace.settings or {}), "require_totp": required}
    ended = 0
    if required:
        for agent in session.scalars(select(Agent).where(
                Agent.workspace_id == workspace_id, Agent.totp_enabled_at.is_(None),
                Agent.role.in_([Role.SUPERVISOR, Role.ADMIN]))):
            ended += revoke_sessions(session, agent.id, full_only=True)
    audit(session, workspace_id, "workspace.totp_requirement", "workspace", workspace_id,
          actor_type="agent", actor_id=str(actor.id),
          data={"required": required, "sessions_ended": ended})
    return ended
