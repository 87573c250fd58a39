"""Live updates for the desktop: the workspace's stream events over SSE, authenticated by
the session cookie (the REST stream at /api/v1/stream takes a bearer token)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from threadline.events.runtime import Runtime
from threadline.events.service import latest_stream_id, stream_after, stream_topic
from threadline.web.deps import get_runtime
from threadline.web.desktop.security import DesktopRoute, DeskUser, current_user

router = APIRouter(route_class=DesktopRoute, include_in_schema=False)
POLL_SECONDS = 2.0
RECHECK_SECONDS = (0.03, 0.07, 0.15, 0.3)


def _latest(runtime: Runtime, user: DeskUser) -> int:
    with runtime.db.session(write=False) as session:
        return latest_stream_id(session, user.workspace_id)


def _fetch(runtime: Runtime, user: DeskUser, after: int) -> list[dict[str, Any]]:
    with runtime.db.session(write=False) as session:
        return [{"id": str(e.id), "event": e.name, "data": json.dumps(e.payload)}
                for e in stream_after(session, user.workspace_id, after)]


@router.get("/desktop/stream")
async def desktop_stream(request: Request, user: Annotated[DeskUser, Depends(current_user)],
                         runtime: Annotated[Runtime, Depends(get_runtime)],
                         ) -> EventSourceResponse:
    header = request.headers.get("last-event-id") or ""
    after = int(header) if header.isdigit() else await run_in_threadpool(_latest, runtime, user)

    async def events() -> AsyncIterator[dict[str, Any]]:
        nonlocal after
        wake = asyncio.Event()

        async def listen() -> None:
            async for _ in runtime.bus.subscribe(stream_topic(user.workspace_id)):
                wake.set()

        listener = asyncio.create_task(listen())
        retries: list[float] = []
        try:
            yield {"event": "ready", "data": "{}"}
            while True:
                batch = await run_in_threadpool(_fetch, runtime, user, after)
                for item in batch:
                    after = int(item["id"])
                    yield item
                if batch:
                    retries = []
                    continue
                if retries:
                    # A wake-up can run ahead of the writer's commit (it is only a hint):
                    # look again shortly before falling back to the slow poll.
                    await asyncio.sleep(retries.pop(0))
                    continue
                woke = False
                with contextlib.suppress(TimeoutError):
                    woke = await asyncio.wait_for(wake.wait(), POLL_SECONDS)
                wake.clear()
                if woke:
                    retries = list(RECHECK_SECONDS)
        finally:
            listener.cancel()

    return EventSourceResponse(events(), ping=15)
