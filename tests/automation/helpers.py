"""Shared steps of the automation tests: rules through the API, messages through the webhook,
and what the rules recorded."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from tests.factories import post_events
from threadline.automation.models import AutomationRun
from threadline.conversations.models import Conversation, Message
from threadline.events.models import AuditEvent
from threadline.jobs.runtime import Runtime


def rule(client: Any, trigger: str, actions: list[dict[str, Any]],
         conditions: list[dict[str, Any]] | None = None, name: str | None = None) -> str:
    response = client.post("/api/v1/automation/rules", json={
        "name": name or f"rule {uuid.uuid4().hex[:6]}", "trigger": trigger,
        "conditions": conditions or [], "actions": actions})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def deliver(client: Any, worker: Any, account: Any, *events: dict[str, Any]) -> None:
    assert post_events(client, account, list(events)).status_code == 200
    worker.drain()


def conversation_of(runtime: Runtime, workspace_id: uuid.UUID, provider_id: str) -> Conversation:
    """The conversation of this workspace holding the message (other tests of the process use
    the same provider ids in their own workspaces)."""
    with runtime.db.session(write=False) as session:
        conv = session.scalar(select(Conversation).join(
            Message, Message.conversation_id == Conversation.id)
            .where(Message.workspace_id == workspace_id, Message.provider_id == provider_id))
        assert conv is not None
        return conv


def runs_of(runtime: Runtime, rule_id: str) -> list[AutomationRun]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(AutomationRun).where(
            AutomationRun.rule_id == uuid.UUID(rule_id)).order_by(AutomationRun.id)))


def fired_audits(runtime: Runtime, conversation_id: uuid.UUID) -> list[AuditEvent]:
    with runtime.db.session(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.subject_id == str(conversation_id),
            AuditEvent.action == "automation.fired").order_by(AuditEvent.id)))
