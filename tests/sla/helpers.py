"""Shared steps of the service-level tests: policies and calendars through the API, messages
through the webhook at chosen times, and what the clocks and the scanner recorded."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tests.factories import BASE_TIME, message_event, post_events
from threadline.conversations.models import Conversation, Message
from threadline.db.base import utcnow
from threadline.events.models import AuditEvent, StreamEvent
from threadline.jobs.runtime import Runtime
from threadline.sla.models import SlaClock, SlaOutcome

WEEKDAYS_9_TO_5 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def policy(client: Any, **fields: Any) -> str:
    body = {"name": f"policy {uuid.uuid4().hex[:6]}", **fields}
    response = client.post("/api/v1/sla/policies", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def calendar(client: Any, **fields: Any) -> str:
    body = {"name": f"hours {uuid.uuid4().hex[:6]}", "time_zone": "UTC",
            "hours": WEEKDAYS_9_TO_5, **fields}
    response = client.post("/api/v1/sla/calendars", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def minutes_from_base(at: datetime) -> float:
    return (at - BASE_TIME).total_seconds() / 60


def customer_writes(client: Any, worker: Any, account: Any, pid: str, *,
                    at: datetime | None = None, **fields: Any) -> None:
    """A customer's message created at `at` (now by default), processed by the worker."""
    event = message_event(pid, minutes=minutes_from_base(at or utcnow()), **fields)
    assert post_events(client, account, [event]).status_code == 200
    worker.drain()


def conversation_of(runtime: Runtime, workspace_id: uuid.UUID, provider_id: str,
                    ) -> Conversation:
    with runtime.db.session(write=False) as session:
        conv = session.scalar(select(Conversation).join(
            Message, Message.conversation_id == Conversation.id)
            .where(Message.provider_id == provider_id,
                   Message.workspace_id == workspace_id))
        assert conv is not None
        return conv


def clock_of(runtime: Runtime, conversation_id: uuid.UUID) -> SlaClock | None:
    with runtime.db.session(write=False) as session:
        return session.get(SlaClock, conversation_id)


def outcomes_of(runtime: Runtime, conversation_id: uuid.UUID) -> list[SlaOutcome]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(SlaOutcome).where(
            SlaOutcome.conversation_id == conversation_id).order_by(SlaOutcome.id)))


def audits(runtime: Runtime, conversation_id: uuid.UUID, action: str) -> list[AuditEvent]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == str(conversation_id), AuditEvent.action == action)
            .order_by(AuditEvent.id)))


def live(runtime: Runtime, workspace_id: uuid.UUID, name: str) -> list[StreamEvent]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(StreamEvent).where(
            StreamEvent.workspace_id == workspace_id, StreamEvent.name == name)
            .order_by(StreamEvent.id)))
