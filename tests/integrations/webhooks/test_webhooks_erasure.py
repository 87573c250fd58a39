"""Erasure of a customer (GDPR) also deletes the webhook deliveries that name him, with their
attempts; other customers' deliveries stay."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from tests.factories import api_account, message_event, post_events
from tests.integrations.webhooks.conftest import Receiver, pump, subscribe
from threadline.conversations.service import Actor
from threadline.integrations.webhooks.models import WebhookAttempt, WebhookDelivery
from threadline.jobs.runtime import Runtime
from threadline.jobs.worker import Worker
from threadline.subjects.service import erase_customer


def test_erasing_a_customer_deletes_the_deliveries_that_name_him(
        client: Any, hook_runtime: Runtime, hook_worker: Worker, workspace_id: uuid.UUID,
        receiver: Receiver) -> None:
    subscribe(hook_runtime, workspace_id, receiver.url, ["message.created", "customer.created"])
    account = api_account(hook_runtime, workspace_id)
    for author, pid in (("ann", "e-1"), ("bob", "e-2")):
        assert post_events(client, account, [message_event(pid, author=author,
                                                           text=f"hello from {author}")]
                           ).status_code == 200
    assert len(pump(hook_worker, receiver, 4)) == 4
    conversations = client.get("/api/v1/conversations").json()["items"]
    ann = next(c["customer_id"] for c in conversations
               if "ann" in str(client.get(f"/api/v1/customers/{c['customer_id']}").json()))
    with hook_runtime.db.session(write=False) as s:
        before = s.scalar(select(func.count()).select_from(WebhookDelivery))
        assert s.scalar(select(func.count()).select_from(WebhookAttempt)) == before == 4
    with hook_runtime.db.session() as s:
        erase_customer(s, workspace_id, uuid.UUID(ann), Actor("agent", "test"))
    with hook_runtime.db.session(write=False) as s:
        bodies = list(s.scalars(select(WebhookDelivery.body)))
        attempts = s.scalar(select(func.count()).select_from(WebhookAttempt))
    assert len(bodies) == 2 and attempts == 2
    assert not any(ann in b for b in bodies)  # bob's two stay
