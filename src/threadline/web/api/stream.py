"""Server-sent events: every change in the workspace, replayable with Last-Event-ID."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from threadline.errors import BadRequest
from threadline.jobs.runtime import Runtime
from threadline.web.deps import Principal, get_runtime, principal_from
from threadline.web.events_stream import start_after, workspace_events

router = APIRouter(tags=["stream"])


def _authenticate(runtime: Runtime, request: Request) -> Principal:
    with runtime.db.session(write=False) as session:
        return principal_from(request, session)


@router.get("/stream")
async def stream(request: Request,
                 runtime: Annotated[Runtime, Depends(get_runtime)]) -> EventSourceResponse:
    principal = await run_in_threadpool(_authenticate, runtime, request)
    header = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    last: int | None = None
    if header:
        try:
            last = int(header)
        except ValueError:
            raise BadRequest("Last-Event-ID must be an event id", code="bad_event_id") from None
    after = await start_after(runtime, principal.workspace_id, last)
    return EventSourceResponse(workspace_events(runtime, principal.workspace_id, after), ping=15)
