"""Request dependencies: the runtime, a unit-of-work session, and the caller's identity."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from threadline import logs
from threadline.conversations.service import Actor
from threadline.errors import Forbidden, Unauthorized
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import Role
from threadline.workspace.service import authenticate_token


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def write_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    """The request owns the transaction: commit on success, roll back on error."""
    with runtime.db.session() as session:
        yield session


def read_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    with runtime.db.session(write=False) as session:
        yield session


# Function-scoped: the session closes (and commits) before the response is sent, so a client
# never hears 201 for a change that is not committed yet.
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]


@dataclass(frozen=True)
class Principal:
    workspace_id: uuid.UUID
    role: str
    actor: Actor

    def require(self, role: str) -> None:
        if Role.RANK[self.role] < Role.RANK[role]:
            raise Forbidden(f"this needs the {role} role", code="insufficient_role")


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'",
                           code="missing_token")
    return token.strip()


def principal_from(request: Request, session: Session) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = authenticate_token(session, _bearer(request))
    principal = Principal(
        workspace_id=token.workspace_id, role=token.role,
        actor=Actor("token" if token.agent_id is None else "agent", str(token.id),
                    agent_id=token.agent_id))
    request.state.principal = principal
    logs.bind_workspace(principal.workspace_id)
    return principal


def current_principal(request: Request, session: ReadSession) -> Principal:
    return principal_from(request, session)


def supervisor(principal: Principal = Depends(current_principal)) -> Principal:
    principal.require(Role.SUPERVISOR)
    return principal


def admin(principal: Principal = Depends(current_principal)) -> Principal:
    principal.require(Role.ADMIN)
    return principal
