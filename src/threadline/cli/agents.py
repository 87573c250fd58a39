"""`threadline agents`: desktop logins: create, list, disable, enable, reset credentials."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from threadline.cli.common import (
    JsonFlag,
    PlainCommand,
    RoleName,
    WorkspaceOption,
    print_json,
    print_rows,
    runtime,
    typer_app,
    workspace_id,
)
from threadline.jobs.runtime import Runtime

app = typer_app("Agents (desktop logins): create, list, disable, enable, reset credentials.")


Email = Annotated[str, typer.Option(metavar="EMAIL", help="The agent's email address.")]


@app.command("create", cls=PlainCommand)
def create(email: Email,
           role: Annotated[RoleName, typer.Option(help="What the agent may do.")],
           name: Annotated[str | None, typer.Option(
               metavar="NAME", help="Display name (default: the email's local part).")] = None,
           workspace: WorkspaceOption = None) -> None:
    """Create an agent; prints a one-time password (to change at the first sign-in)."""
    from threadline.workspace.auth import AccountPolicy
    from threadline.workspace.service import create_agent

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            agent, password = create_agent(
                session, ws, email=email, role=role.value, name=name,
                one_time_ttl=AccountPolicy.from_settings(rt.settings).one_time_ttl)
            out = {"id": str(agent.id), "email": agent.email, "role": role.value,
                   "password": password, "expires_at": agent.password_one_time_until}
    finally:
        rt.close()
    print_json(out)


@app.command("list", cls=PlainCommand)
def list_agents(workspace: WorkspaceOption = None, as_json: JsonFlag = False) -> None:
    """List the workspace's agents (never a password or a second-factor secret)."""
    from threadline.workspace.auth import list_agents as agents_of

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session(write=False) as session:
            rows = [{"id": str(a.id), "email": a.email, "name": a.name, "role": a.role,
                     "active": a.active, "second_factor": a.totp_enabled_at is not None,
                     "one_time_password": a.password_one_time_until is not None,
                     "created_at": a.created_at}
                    for a in agents_of(session, ws)]
    finally:
        rt.close()
    print_rows(rows, ["id", "email", "name", "role", "active", "second_factor", "created_at"],
               as_json=as_json)


def _on_agent(email: str, workspace: str | None,
              act: Callable[[Runtime, Session, uuid.UUID, uuid.UUID], dict[str, Any]]) -> None:
    """Run `act(runtime, session, workspace_id, agent_id)` on the agent of the workspace
    with this email and print what it returns."""
    from threadline.workspace.admin import find_agent

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            out = act(rt, session, ws, find_agent(session, ws, email).id)
    finally:
        rt.close()
    print_json(out)


def _set_active(email: str, workspace: str | None, active: bool) -> None:
    from threadline.workspace.admin import set_agent_active

    def act(rt: Runtime, session: Session, ws: uuid.UUID, agent_id: uuid.UUID,
            ) -> dict[str, Any]:
        change = set_agent_active(session, ws, agent_id, active, actor_type="system",
                                  actor_id="cli")
        return {"id": str(change.agent.id), "email": change.agent.email,
                "active": change.agent.active, "sessions_ended": change.sessions_ended}

    _on_agent(email, workspace, act)


@app.command("disable", cls=PlainCommand)
def disable(email: Email, workspace: WorkspaceOption = None) -> None:
    """Disable an agent: he can no longer sign in and his sessions end at once."""
    _set_active(email, workspace, False)


@app.command("enable", cls=PlainCommand)
def enable(email: Email, workspace: WorkspaceOption = None) -> None:
    """Enable a disabled agent again (he signs in with his password)."""
    _set_active(email, workspace, True)


@app.command("reset-password", cls=PlainCommand)
def reset_password(email: Email, workspace: WorkspaceOption = None) -> None:
    """Give an agent a new one-time password (printed once); his sessions end."""
    from threadline.workspace.accounts import reset_password as reset
    from threadline.workspace.auth import AccountPolicy

    def act(rt: Runtime, session: Session, ws: uuid.UUID, agent_id: uuid.UUID,
            ) -> dict[str, Any]:
        agent, password = reset(session, ws, agent_id,
                                policy=AccountPolicy.from_settings(rt.settings),
                                actor_type="system", actor_id="cli")
        return {"id": str(agent.id), "email": agent.email, "password": password,
                "expires_at": agent.password_one_time_until}

    _on_agent(email, workspace, act)


@app.command("reset-totp", cls=PlainCommand)
def reset_totp(email: Email, workspace: WorkspaceOption = None) -> None:
    """Remove an agent's second factor (a lost phone); his sessions end."""
    from threadline.workspace.accounts import reset_totp as reset

    def act(rt: Runtime, session: Session, ws: uuid.UUID, agent_id: uuid.UUID,
            ) -> dict[str, Any]:
        agent = reset(session, ws, agent_id, actor_type="system", actor_id="cli")
        return {"id": str(agent.id), "email": agent.email, "second_factor": False}

    _on_agent(email, workspace, act)
