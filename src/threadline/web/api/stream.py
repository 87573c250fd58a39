"""Server-sent events: every change in the workspace, replayable with Last-Event-ID."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from threadline.errors import BadRequest
from threadline.events.runtime import Runtime
from threadline.events.service import latest_stream_id, stream_after, stream_topic
from threadline.web.deps import Principal, get_runtime, principal_from

router = APIRouter(tags=["stream"])
POLL_SECONDS = 2.0


def _fetch(runtime: Runtime, principal: Principal, after: int) -> list[dict[str, Any]]:
    with runtime.db.session(write=False) as session:
        return [{"id": str(e.id), "event": e.name, "data": json.dumps(e.payload)}
                for e in stream_after(session, principal.workspace_id, after)]


def _authenticate(runtime: Runtime, request: Request) -> Principal:
    with runtime.db.session(write=False) as session:
        return principal_from(request, session)


def _latest(runtime: Runtime, principal: Principal) -> int:
    with runtime.db.session(write=False) as session:
        return latest_stream_id(session, principal.workspace_id)


@router.get("/stream")
async def stream(request: Request,
                 runtime: Annotated[Runtime, Depends(get_runtime)]) -> EventSourceResponse:
    principal = await run_in_threadpool(_authenticate, runtime, request)
    header = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if header:
        try:
            after = int(header)
        except ValueError:
            raise BadRequest("Last-Event-ID must be an event id", code="bad_event_id") from None
    else:
        after = await run_in_threadpool(_latest, runtime, principal)

    async def events() -> AsyncIterator[dict[str, Any]]:
        nonlocal after
        wake = asyncio.Event()

        async def listen() -> None:
            async for _ in runtime.bus.subscribe(stream_topic(principal.workspace_id)):
                wake.set()

        listener = asyncio.create_task(listen())
        try:
            while True:
                batch = await run_in_threadpool(_fetch, runtime, principal, after)
                for item in batch:
                    after = int(item["id"])
                    yield item
                if batch:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                wake.clear()
        finally:
            listener.cancel()

    return EventSourceResponse(events(), ping=15)
