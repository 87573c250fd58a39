"""Server-sent events: every change in the workspace, replayable with Last-Event-ID."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from threadline.errors import BadRequest
from threadline.jobs.runtime import Runtime
from threadline.web.contract import errors
from threadline.web.deps import BearerCredentials, Principal, get_runtime, principal_from
from threadline.web.events_stream import start_after, workspace_events

router = APIRouter(tags=["stream"])
MAX_EVENT_ID = 2**63 - 1  # stream event ids are 64-bit integers


def _authenticate(runtime: Runtime, request: Request,
                  credentials: HTTPAuthorizationCredentials | None) -> Principal:
    with runtime.db.session(write=False) as session:
        return principal_from(request, session, credentials)


@router.get("/stream", response_class=EventSourceResponse, responses={
    200: {"content": {"text/event-stream": {}},
          "description": "Server-sent events, replayable with Last-Event-ID."},
    **errors(BadRequest)})
async def stream(request: Request,
                 runtime: Annotated[Runtime, Depends(get_runtime)],
                 credentials: BearerCredentials,
                 last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
                 last_event_id: Annotated[str | None, Query(
                     description="For clients that cannot set Last-Event-ID")] = None,
                 ) -> EventSourceResponse:
    principal = await run_in_threadpool(_authenticate, runtime, request, credentials)
    header = last_event_id_header or last_event_id
    last: int | None = None
    if header:
        try:
            last = int(header)
        except ValueError:
            last = -1
        if not 0 <= last <= MAX_EVENT_ID:
            raise BadRequest("Last-Event-ID must be an event id", code="bad_event_id")
    after = await start_after(runtime, principal.workspace_id, last)
    return EventSourceResponse(workspace_events(runtime, principal.workspace_id, after), ping=15)
