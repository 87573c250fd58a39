"""Workspaces, channel accounts, agents and API tokens."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from threadline.db.base import new_id, utcnow
from threadline.errors import NotFound, Unauthorized, ValidationFailed
from threadline.events.service import audit
from threadline.workspace.models import Agent, ApiToken, ChannelAccount, Role, Team, Workspace
from threadline.workspace.passwords import check_strength, one_time_password

DEFAULT_SLUG = "default"
ConfigCheck = Callable[[str, dict[str, Any]], None]
TOKEN_PREFIX = "tl_"  # noqa: S105 - a prefix, not a secret
_hasher = PasswordHasher()
_decoy: str | None = None  # a hash of nothing known, for spend_password_check


def set_password_hasher(hasher: PasswordHasher) -> None:
    """Tests use a cheaper argon2 cost."""
    global _hasher
    _hasher = hasher


def create_workspace(session: Session, name: str, slug: str | None = None) -> Workspace:
    slug = slug or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or new_id().hex[:8]
    ws = Workspace(id=new_id(), name=name, slug=slug, settings={})
    session.add(ws)
    session.flush()
    audit(session, ws.id, "workspace.created", "workspace", ws.id, data={"name": name})
    return ws


def get_or_create_default_workspace(session: Session) -> Workspace:
    ws = session.scalar(select(Workspace).where(Workspace.slug == DEFAULT_SLUG))
    return ws or create_workspace(session, "Default workspace", DEFAULT_SLUG)


def access_workspace(session: Session, workspace_id: uuid.UUID) -> Workspace:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise NotFound("workspace not found")
    return ws


SettingT = TypeVar("SettingT", bound=BaseModel)


def read_setting(session: Session, workspace_id: uuid.UUID, key: str, model: type[SettingT],
                 *, unreadable: SettingT | None = None) -> SettingT:
    """A typed setting kept under `key` in the workspace's settings: the model's defaults
    when it was never saved, `unreadable` (else the defaults) when what is stored no longer
    validates (saved by another version)."""
    stored = (access_workspace(session, workspace_id).settings or {}).get(key)
    if not isinstance(stored, dict):
        return model()
    try:
        return model.model_validate(stored)
    except ValidationError:
        return unreadable if unreadable is not None else model()


def write_setting(session: Session, workspace_id: uuid.UUID, key: str,
                  value: BaseModel) -> dict[str, Any]:
    """Keep `value` under `key` in the workspace's settings; returns what was stored (the
    caller audits the change)."""
    workspace = access_workspace(session, workspace_id)
    data = value.model_dump()
    workspace.settings = {**(workspace.settings or {}), key: data}
    return data


# --- channel accounts -------------------------------------------------------------------------


def create_channel_account(session: Session, workspace_id: uuid.UUID, *, kind: str, name: str,
                           config: dict[str, Any] | None = None,
                           known_kinds: list[str] | None = None,
                           check_config: ConfigCheck | None = None) -> ChannelAccount:
    """`check_config(kind, config)` raises a ThreadlineError for a configuration the
    channel refuses (e.g. credentials pointed at an unsafe host); nothing is stored then."""
    if known_kinds is not None and kind not in known_kinds:
        raise ValidationFailed(f"unknown channel kind {kind!r}",
                               details={"known": known_kinds})
    if check_config is not None:
        check_config(kind, dict(config or {}))
    account = ChannelAccount(id=new_id(), workspace_id=workspace_id, kind=kind, name=name,
                             config=dict(config or {}), active=True)
    session.add(account)
    session.flush()
    audit(session, workspace_id, "channel_account.created", "channel_account", account.id,
          data={"kind": kind, "name": name})
    return account


def webhook_path(account: ChannelAccount) -> str:
    return f"/webhooks/{account.kind}/{account.id}"


def access_channel_account(session: Session, workspace_id: uuid.UUID,
                           account_id: uuid.UUID) -> ChannelAccount:
    account = session.get(ChannelAccount, account_id)
    if account is None or account.workspace_id != workspace_id:
        raise NotFound("channel account not found")
    return account


def update_channel_account(session: Session, account: ChannelAccount, *,
                           name: str | None = None, active: bool | None = None,
                           config_patch: dict[str, Any] | None = None,
                           actor_type: str = "agent", actor_id: str | None = None,
                           check_config: ConfigCheck | None = None) -> ChannelAccount:
    """Rename, (de)activate, or change configuration keys (a null value removes a key).
    The audit records which keys changed, never their values (they are credentials)."""
    changed: dict[str, Any] = {}
    config = dict(account.config or {})
    for key, value in (config_patch or {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    if config_patch and check_config is not None:
        check_config(account.kind, config)  # before anything changes
    if name is not None:
        name = name.strip()
        if not name or len(name) > 255:
            raise ValidationFailed("an account needs a name (at most 255 characters)",
                                   code="bad_name")
        if name != account.name:
            account.name, changed["name"] = name, name
    if active is not None and active != account.active:
        account.active, changed["active"] = active, active
    if config_patch:
        account.config = config
        changed["config_keys"] = sorted(config_patch)
    if changed:
        audit(session, account.workspace_id, "channel_account.updated", "channel_account",
              account.id, actor_type=actor_type, actor_id=actor_id, data=changed)
    return account


def list_teams(session: Session, workspace_id: uuid.UUID) -> list[Team]:
    return list(session.scalars(select(Team).where(Team.workspace_id == workspace_id)
                                .order_by(Team.name)))


def channel_kinds(session: Session, workspace_id: uuid.UUID) -> list[str]:
    """The kinds of channel the workspace has accounts on (the inbox's channel filter)."""
    return sorted(set(session.scalars(select(ChannelAccount.kind).where(
        ChannelAccount.workspace_id == workspace_id).distinct())))


def list_channel_accounts(session: Session, workspace_id: uuid.UUID) -> list[ChannelAccount]:
    stmt = (select(ChannelAccount).where(ChannelAccount.workspace_id == workspace_id)
            .order_by(ChannelAccount.created_at))
    return list(session.scalars(stmt))


# --- agents -----------------------------------------------------------------------------------


def create_agent(session: Session, workspace_id: uuid.UUID, *, email: str, role: str,
                 name: str | None = None, password: str | None = None,
                 one_time_ttl: timedelta = timedelta(hours=72)) -> tuple[Agent, str]:
    """Create an agent; returns it with its password. Without a chosen password (which must
    pass the password policy) a one-time password is generated: it must be changed at the
    first sign-in and stops working after `one_time_ttl`."""
    if role not in Role.ALL:
        raise ValidationFailed(f"role must be one of {', '.join(Role.ALL)}")
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise ValidationFailed("a valid email address is required")
    exists = session.scalar(select(Agent.id).where(Agent.workspace_id == workspace_id,
                                                   Agent.email == email))
    if exists:
        raise ValidationFailed("an agent with this email exists", code="agent_exists")
    if password is not None:
        check_strength(password, email)
    chosen, password = password is not None, password or one_time_password()
    agent = Agent(id=new_id(), workspace_id=workspace_id, email=email,
                  name=name or email.split("@")[0], role=role, skills=[], capacity=10,
                  password_hash=hash_password(password),
                  password_one_time_until=None if chosen else utcnow() + one_time_ttl)
    session.add(agent)
    session.flush()
    audit(session, workspace_id, "agent.created", "agent", agent.id,
          data={"role": role, "one_time_password": agent.password_one_time_until is not None})
    return agent, password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def spend_password_check(password: str) -> None:
    """As long as checking a real password: an unknown email answers no faster than a
    known one (no account discovery by timing)."""
    global _decoy
    if _decoy is None or _hasher.check_needs_rehash(_decoy):
        _decoy = _hasher.hash(secrets.token_urlsafe(16))
    with contextlib.suppress(VerificationError):
        _hasher.verify(_decoy, password)


def verify_password(agent: Agent, password: str) -> bool:
    if not agent.password_hash:
        return False
    try:
        return _hasher.verify(agent.password_hash, password)
    except VerificationError:
        return False
    except Exception:
        return False


def create_team(session: Session, workspace_id: uuid.UUID, name: str) -> Team:
    team = Team(id=new_id(), workspace_id=workspace_id, name=name)
    session.add(team)
    session.flush()
    audit(session, workspace_id, "team.created", "team", team.id, data={"name": name})
    return team


# --- API tokens -------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, workspace_id: uuid.UUID, *, role: str,
                 name: str = "api", agent_id: uuid.UUID | None = None) -> tuple[ApiToken, str]:
    """Create an API token; the plain token is returned once and only its hash is stored."""
    if role not in Role.ALL:
        raise ValidationFailed(f"role must be one of {', '.join(Role.ALL)}")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(id=new_id(), workspace_id=workspace_id, token_hash=hash_token(plain),
                     prefix=plain[:8], role=role, name=name, agent_id=agent_id)
    session.add(token)
    session.flush()
    audit(session, workspace_id, "token.created", "api_token", token.id, data={"role": role})
    return token, plain


def authenticate_token(session: Session, plain: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None:
        raise Unauthorized("invalid or revoked API token", code="invalid_token")
    return token


def revoke_token(session: Session, token: ApiToken) -> None:
    token.revoked_at = utcnow()
    audit(session, token.workspace_id, "token.revoked", "api_token", token.id)
