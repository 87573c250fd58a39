"""Administration of a workspace's channel accounts, agents and API tokens from outside the
desktop (the command line): list them, disable or enable them, revoke tokens. Never commits;
every change is audited with who made it; nothing returned here holds a credential (the
callers print what they get)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.db.base import utcnow
from threadline.errors import NotFound
from threadline.events.service import audit
from threadline.workspace.auth import access_agent, revoke_sessions
from threadline.workspace.models import Agent, ApiToken, ChannelAccount
from threadline.workspace.service import access_channel_account, update_channel_account


@dataclass(frozen=True)
class AgentChange:
    agent: Agent
    sessions_ended: int


def set_channel_account_active(session: Session, workspace_id: uuid.UUID,
                               account_id: uuid.UUID, active: bool, *, actor_type: str,
                               actor_id: str | None) -> ChannelAccount:
    """A disabled account accepts no webhook (ingest answers as for an unknown account), is
    not polled, and sends nothing (replies are refused, queued sends fail)."""
    account = access_channel_account(session, workspace_id, account_id)
    return update_channel_account(session, account, active=active, actor_type=actor_type,
                                  actor_id=actor_id)


def set_agent_active(session: Session, workspace_id: uuid.UUID, agent_id: uuid.UUID,
                     active: bool, *, actor_type: str, actor_id: str | None) -> AgentChange:
    """A disabled agent cannot sign in and every session of his ends at once."""
    agent = access_agent(session, workspace_id, agent_id)
    ended = 0
    if agent.active != active:
        agent.active = active
        ended = 0 if active else revoke_sessions(session, agent.id)
        audit(session, workspace_id, "agent.updated", "agent", agent.id,
              actor_type=actor_type, actor_id=actor_id,
              data={"active": active, "sessions_ended": ended})
    return AgentChange(agent, ended)


def find_agent(session: Session, workspace_id: uuid.UUID, email: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.workspace_id == workspace_id,
                                               Agent.email == email.strip().lower()))
    if agent is None:
        raise NotFound("no agent with this email in this workspace", code="unknown_agent")
    return agent


def list_tokens(session: Session, workspace_id: uuid.UUID) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.workspace_id == workspace_id)
                                .order_by(ApiToken.created_at)))


def access_token(session: Session, workspace_id: uuid.UUID, token_id: uuid.UUID) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.workspace_id != workspace_id:
        raise NotFound("API token not found", code="unknown_token")
    return token


def revoke(session: Session, workspace_id: uuid.UUID, token_id: uuid.UUID, *,
           actor_type: str, actor_id: str | None) -> tuple[ApiToken, datetime]:
    """Revoke a token of the workspace: the API refuses it from the next request on.
    Revoking it again changes nothing (its first revocation time stays)."""
    token = access_token(session, workspace_id, token_id)
    if token.revoked_at is not None:
        return token, token.revoked_at
    token.revoked_at = when = utcnow()
    audit(session, workspace_id, "token.revoked", "api_token", token.id,
          actor_type=actor_type, actor_id=actor_id)
    return token, when
