"""The workspace's stream events as an SSE generator, shared by the REST stream (bearer
token) and the desktop stream (session cookie). Rows come from `stream_events` (durable, so
Last-Event-ID replays everything missed); the bus only says when to look again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from threadline.events.service import (
    latest_stream_position,
    sequence_stream,
    stream_after,
    stream_topic,
)
from threadline.jobs.bus import Bus
from threadline.jobs.runtime import Runtime

log = logging.getLogger("threadline.stream")

POLL_SECONDS = 2.0  # a lost wake-up delays an event by this much at most


def _fetch(runtime: Runtime, workspace_id: uuid.UUID, after: int) -> list[dict[str, Any]]:
    sequence_stream(runtime.db, workspace_id)
    with runtime.db.session(write=False) as session:
        return [{"id": str(e.position), "event": e.name, "data": json.dumps(e.payload)}
                for e in stream_after(session, workspace_id, after)]


def _latest(runtime: Runtime, workspace_id: uuid.UUID) -> int:
    with runtime.db.session(write=False) as session:
        return latest_stream_position(session, workspace_id)


async def start_after(runtime: Runtime, workspace_id: uuid.UUID, last_event_id: int | None,
                      ) -> int:
    """Where a stream starts: after the client's last event, or at the newest event now."""
    if last_event_id is not None:
        return last_event_id
    return await run_in_threadpool(_latest, runtime, workspace_id)


Fetch = Callable[[int], tuple[list[dict[str, Any]], int]]

RESUBSCRIBE_SECONDS = (0.25, 0.5, 1.0, 2.0)  # then every 2 s until the bus answers again


async def listen(bus: Bus, topic: str, wake: asyncio.Event) -> None:
    """Set `wake` on every wake-up of `topic`, for as long as the stream lives. When the bus
    fails (Redis restarted or unreachable) the subscription is made again, after 0.25, 0.5,
    1 and then every 2 s; meanwhile the stream polls the database every POLL_SECONDS, and
    once subscribed again it looks at once (wake-ups published while it was away are lost,
    the events are not)."""
    failures = 0
    while True:
        try:
            async for _ in bus.subscribe(topic):
                failures = 0
                wake.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if failures == 0:
                log.warning("stream wake-ups lost (%s); subscribing again", type(exc).__name__)
            failures += 1
        else:
            failures += 1  # the subscription ended without an error: subscribe again
        await asyncio.sleep(RESUBSCRIBE_SECONDS[min(failures, len(RESUBSCRIBE_SECONDS)) - 1])
        wake.set()


async def poll_events(runtime: Runtime, workspace_id: uuid.UUID, fetch: Fetch, after: int,
                      ) -> AsyncIterator[dict[str, Any]]:
    """Yield what `fetch(after)` finds (run in the thread pool; it returns the items and the
    new position), then wait for the workspace's wake-up, or POLL_SECONDS, and look again."""
    wake = asyncio.Event()
    listener = asyncio.create_task(listen(runtime.bus, stream_topic(workspace_id), wake))
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
