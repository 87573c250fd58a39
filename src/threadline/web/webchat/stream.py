"""The visitor's live stream: server-sent events filtered down to his own chat.

It reads the same durable stream events as the agents' `/api/v1/stream` (so `Last-Event-ID`
replays after a reconnect), wakes on the same bus topic, and passes on only the messages
`service.visible_messages` lets this visitor see. Outbound messages appear once sent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from threadline.errors import BadRequest
from threadline.events.service import latest_stream_position, sequence_stream, stream_after
from threadline.jobs.runtime import Runtime
from threadline.web.events_stream import poll_events
from threadline.web.webchat.guard import cors_headers
from threadline.webchat import service
from threadline.webchat.tokens import Visitor
from threadline.workspace.models import ChannelAccount

POLL_SECONDS = 2.0
MESSAGE_EVENTS = frozenset({"message.created", "message.delivery", "message.edited"})


def latest(session: Session, account: ChannelAccount) -> int:
    return latest_stream_position(session, account.workspace_id)


def _message_id(payload: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(payload.get("message_id")))
    except (AttributeError, ValueError):
        return None


def fetch(runtime: Runtime, account_id: str, workspace_id: uuid.UUID, visitor: Visitor,
          after: int) -> tuple[list[dict[str, Any]], int]:
    """The visitor's share of the stream events after `after`, and the new position."""
    sequence_stream(runtime.db, workspace_id)  # PostgreSQL: positions given after commit
    with runtime.db.session(write=False) as session:
        account = service.chat_account(session, account_id)
        events = stream_after(session, account.workspace_id, after)
        if not events:
            return [], after
        wanted = [(e, _message_id(e.payload)) for e in events
                  if e.name in MESSAGE_EVENTS or e.name == "message.deleted"]
        ids = [mid for _, mid in wanted if mid is not None]
        visible = service.visible_messages(session, account, visitor, ids)
        deleted_ids = [mid for e, mid in wanted if e.name == "message.deleted" and mid]
        deleted = service.own_thread_ids(session, account, visitor, deleted_ids)
        items: list[dict[str, Any]] = []
        for event, mid in wanted:
            if mid is None:
                continue
            if event.name == "message.deleted" and mid in deleted:
                items.append({"id": str(event.position), "event": "message.deleted",
                              "data": json.dumps({"id": str(mid)})})
            elif event.name in MESSAGE_EVENTS and mid in visible:
                items.append({"id": str(event.position), "event": "message",
                              "data": json.dumps(service.message_view(visible[mid]))})
        return items, int(events[-1].position or after)


def _start(runtime: Runtime, account_id: str) -> tuple[uuid.UUID, int]:
    with runtime.db.session(write=False) as session:
        account = service.chat_account(session, account_id)
        return account.workspace_id, latest(session, account)


async def respond(runtime: Runtime, request: Request, account_id: str,
                  visitor: Visitor) -> EventSourceResponse:
    header = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    workspace_id, newest = await run_in_threadpool(_start, runtime, account_id)
    if header:
        try:
            after = int(header)
        except ValueError:
            raise BadRequest("Last-Event-ID must be an event id", code="bad_event_id") from None
    else:
        after = newest

    async def events() -> AsyncIterator[dict[str, Any]]:
        # The starting position as the event id: a reconnect resumes exactly here.
        yield {"id": str(after), "event": "ready", "data": json.dumps({"cursor": str(after)})}
        async for item in poll_events(
                runtime, workspace_id,
                lambda position: fetch(runtime, account_id, workspace_id, visitor, position),
                after):
            yield item

    return EventSourceResponse(events(), ping=15, headers=cors_headers(request))
