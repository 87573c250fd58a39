"""Request dependencies: the runtime, a unit-of-work session, and the caller's identity."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from threadline import logs
from threadline.conversations.service import Actor
from threadline.errors import Forbidden, Unauthorized
from threadline.jobs.runtime import Runtime
from threadline.workspace.models import Role
from threadline.workspace.service import authenticate_token


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    """The dependency: a coroutine, as FastAPI runs a plain function dependency in the thread
    pool, a hop per request that cost the webhook path more than its own work."""
    return runtime_of(request)


def write_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    """The request owns the transaction: commit on success, roll back on error."""
    with runtime.db.session() as session:
        yield session


def read_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    with runtime.db.session(write=False) as session:
        yield session


async def posted_form(request: Request) -> FormData:
    """The request's form, read on the event loop before the handler runs. A handler that
    uses a database session is a plain function, which FastAPI runs in its thread pool: one
    that awaited the form itself would have to be a coroutine and would then run its queries
    on the event loop, where a query waiting for a lock (SQLite's writer, a PostgreSQL row)
    stops every other request, including the one that holds the lock and needs the loop to
    commit (tests/test_architecture.py keeps sessions out of coroutines)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


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


# Declares `bearerAuth` in the OpenAPI document; auto_error=False so that a missing or
# malformed header gets our typed 401 (missing_token), not FastAPI's 403.
bearer_auth = HTTPBearer(auto_error=False, scheme_name="bearerAuth",
                         description="An API token: `Authorization: Bearer <token>`.")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_auth)]


def _bearer(credentials: HTTPAuthorizationCredentials | None) -> str:
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise Unauthorized("send an API token as 'Authorization: Bearer <token>'",
                           code="missing_token")
    return token


def principal_from(request: Request, session: Session,
                   credentials: HTTPAuthorizationCredentials | None) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = authenticate_token(session, _bearer(credentials))
    principal = Principal(
        workspace_id=token.workspace_id, role=token.role,
        actor=Actor("token" if token.agent_id is None else "agent", str(token.id),
                    agent_id=token.agent_id))
    request.state.principal = principal
    logs.bind_workspace(principal.workspace_id)
    return principal


def current_principal(request: Request, session: ReadSession,
                      credentials: BearerCredentials) -> Principal:
    return principal_from(request, session, credentials)


def supervisor(principal: Principal = Depends(current_principal)) -> Principal:
    principal.require(Role.SUPERVISOR)
    return principal


def admin(principal: Principal = Depends(current_principal)) -> Principal:
    principal.require(Role.ADMIN)
    return principal
