"""Live updates for the desktop: the workspace's stream events over SSE, authenticated by
the session cookie (the REST stream at /api/v1/stream takes a bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse

from threadline.jobs.runtime import Runtime
from threadline.web.deps import get_runtime
from threadline.web.desktop.security import DesktopRoute, DeskUser, current_user
from threadline.web.events_stream import start_after, workspace_events

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)


@router.get("/desktop/stream")
async def desktop_stream(request: Request, user: Annotated[DeskUser, Depends(current_user)],
                         runtime: Annotated[Runtime, Depends(get_runtime)],
                         ) -> EventSourceResponse:
    header = request.headers.get("last-event-id") or ""
    after = await start_after(runtime, user.workspace_id, int(header) if header.isdigit()
                              else None)
    return EventSourceResponse(workspace_events(runtime, user.workspace_id, after, hello=True),
                               ping=15)
