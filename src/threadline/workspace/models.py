"""Workspaces (tenants), channel accounts, agents, teams and API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from threadline.db.base import Base, IdMixin, TimestampMixin, utcnow
from threadline.db.crypto import EncryptedJSON
from threadline.db.redacted import RedactedText


class Role:
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    ALL = ("agent", "supervisor", "admin")
    RANK = {"agent": 0, "supervisor": 1, "admin": 2}


class Workspace(IdMixin, TimestampMixin, Base):
    __tablename__ = "workspaces"

    name: Mapped[str]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ChannelAccount(IdMixin, TimestampMixin, Base):
    __tablename__ = "channel_accounts"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str]
    # credentials: never log; one Fernet token at rest (db/crypto.py)
    config: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    poll_cursor: Mapped[dict[str, Any] | None]
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"ChannelAccount(id={self.id}, kind={self.kind!r}, name={self.name!r})"


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str]
    # Routing (routing/, migration 0013): what the team handles (languages such as "es",
    # "channel:whatsapp", "category:billing", "vip", "custom:<name>"), and whether its agents
    # must speak the conversation's language.
    skills: Mapped[list[Any]] = mapped_column(default=list)
    language_required: Mapped[bool] = mapped_column(default=False)


class Agent(IdMixin, TimestampMixin, Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str]
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text)
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id"))
    skills: Mapped[list[Any]] = mapped_column(default=list)
    capacity: Mapped[int] = mapped_column(default=10)
    presence: Mapped[str] = mapped_column(String(16), default="offline")
    active: Mapped[bool] = mapped_column(default=True)
    # Set while the password is a one-time password (created or reset by an admin): it must
    # be changed at the next sign-in and stops working at this time.
    password_one_time_until: Mapped[datetime | None]
    # Second factor: the TOTP secret sealed with a key derived from the secret key (read only
    # by workspace/totp.py), when it was confirmed, and the last time step used (no replay).
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Approval of public replies (migration 0015): an agent in training, or one who may not
    # post in public, has his public replies held for a supervisor (outbound/approval.py).
    in_training: Mapped[bool] = mapped_column(default=False)
    may_post_public: Mapped[bool] = mapped_column(default=True)
    # Routing (routing/, migration 0013): capacity per kind of work, when the desktop was
    # last seen (presence goes offline after a while) and when the router last gave him work.
    capacity_realtime: Mapped[int] = mapped_column(default=3)
    capacity_delayed: Mapped[int] = mapped_column(default=10)
    last_seen_at: Mapped[datetime | None]
    last_assigned_at: Mapped[datetime | None]
    # Click-to-call (migration 0030, decision 0326): the agent's own phone, which the
    # provider rings first before it bridges the customer; {"number": E.164}, encrypted.
    phone: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)

    def __repr__(self) -> str:
        return f"Agent(id={self.id}, role={self.role!r})"


class ApiToken(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_tokens"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str]
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    revoked_at: Mapped[datetime | None]


class Template(IdMixin, TimestampMixin, Base):
    """A canned response with {variables}; where it may be used; its approval state."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str]
    body: Mapped[str] = mapped_column(RedactedText)
    channels: Mapped[list[Any]] = mapped_column(default=list)  # [] = every channel
    visibilities: Mapped[list[Any]] = mapped_column(default=list)  # [] = public and private
    approval: Mapped[str] = mapped_column(String(16), default="draft")  # draft|pending|
    #                                                                    approved|rejected
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agents.id"))
    updated_at: Mapped[datetime | None]


class TriageModelRecord(IdMixin, TimestampMixin, Base):
    """A workspace's own triage model, trained from its agents' corrections."""

    __tablename__ = "triage_models"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=True)


class AgentSession(IdMixin, TimestampMixin, Base):
    """A signed-in desktop session; the cookie carries its id, signed with the secret key."""

    __tablename__ = "agent_sessions"

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    agent_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agents.id"), index=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # None: a full session. Otherwise the one step the agent must still take, and nothing
    # else: "totp" (enter a code), "password" (replace a one-time password), "enrol" (set up
    # the second factor the workspace requires).
    stage: Mapped[str | None] = mapped_column(String(16))


class LoginAttempt(IdMixin, Base):
    """A failed password or code check (recent ones throttle further attempts, shared by all
    processes), or a client address an account fully signed in from (succeeded)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key", "key", "created_at"),
                      Index("ix_login_attempts_created_at", "created_at"))

    key: Mapped[str] = mapped_column(String(64))  # hash of a kind, an email, an address
    succeeded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
