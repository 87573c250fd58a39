"""The workspace's stream events as an SSE generator, shared by the REST stream (bearer
token) and the desktop stream (session cookie). Rows come from `stream_events` (durable, so
Last-Event-ID replays everything missed); the bus only says when to look again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from threadline.events.service import latest_stream_id, stream_after, stream_topic
from threadline.jobs.runtime import Runtime

POLL_SECONDS = 2.0  # a lost wake-up delays an event by this much at most


def _fetch(runtime: Runtime, workspace_id: uuid.UUID, after: int) -> list[dict[str, Any]]:
    with runtime.db.session(write=False) as session:
        return [{"id": str(e.id), "event": e.name, "data": json.dumps(e.payload)}
                for e in stream_after(session, workspace_id, after)]


def _latest(runtime: Runtime, workspace_id: uuid.UUID) -> int:
    with runtime.db.session(write=False) as session:
        return latest_stream_id(session, workspace_id)


async def start_after(runtime: Runtime, workspace_id: uuid.UUID, last_event_id: int | None,
                      ) -> int:
    """Where a stream starts: after the client's last event, or at the newest event now."""
    if last_event_id is not None:
        return last_event_id
    return await run_in_threadpool(_latest, runtime, workspace_id)


Fetch = Callable[[int], tuple[list[dict[str, Any]], int]]


async def poll_events(runtime: Runtime, workspace_id: uuid.UUID, fetch: Fetch, after: int,
                      ) -> AsyncIterator[dict[str, Any]]:
    """Yield what `fetch(after)` finds (run in the thread pool; it returns the items and the
    new position), then wait for the workspace's wake-up, or POLL_SECONDS, and look again."""
    wake = asyncio.Event()

    async def listen() -> None:
        async for _ in runtime.bus.subscribe(stream_topic(workspace_id)):
            wake.set()

    listener = asyncio.create_task(listen())
    try:
        while True:
            wake.clear()
            batch, position = await run_in_threadpool(fetch, after)
            moved, after = position != after, position
            for item in batch:
                yield item
            if moved:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_SECONDS)
    finally:
        listener.cancel()


async def workspace_events(runtime: Runtime, workspace_id: uuid.UUID, after: int, *,
                           hello: bool = False) -> AsyncIterator[dict[str, Any]]:
    """Every stream event of the workspace after `after`."""

    def fetch(position: int) -> tuple[list[dict[str, Any]], int]:
        items = _fetch(runtime, workspace_id, position)
        return items, int(items[-1]["id"]) if items else position

    if hello:
        yield {"event": "ready", "data": "{}"}
    async for item in poll_events(runtime, workspace_id, fetch, after):
        yield item
