"""Hand-made conversations with the fields the queue orders by, and the ids a page lists."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from tests.factories import BASE_TIME
from threadline.conversations.models import Conversation
from threadline.jobs.runtime import Runtime

ROW = re.compile(r'class="inbox-row[^"]*"[^>]*data-id="([0-9a-f-]+)"')


def at(minutes: float) -> datetime:
    return BASE_TIME + timedelta(minutes=minutes)


def conversation(runtime: Runtime, workspace_id: uuid.UUID, *, due: float | None = None,
                 priority: int = 4, relevance: str | None = "direct",
                 waiting: float | None = 0, status: str = "open", **extra: Any) -> uuid.UUID:
    """One conversation: SLA due `due` minutes after BASE_TIME (None: no deadline), the
    customer's last message `waiting` minutes after BASE_TIME (None: never wrote)."""
    with runtime.db.session() as session:
        conv = Conversation(
            id=uuid.uuid4(), workspace_id=workspace_id, status=status, priority=priority,
            relevance=relevance, labels=[], sla_due_at=None if due is None else at(due),
            last_inbound_at=None if waiting is None else at(waiting),
            last_message_at=at(waiting or 0), created_at=at(-600), updated_at=at(0),
            message_count=0, origin_channel="x", origin_visibility="public", **extra)
        session.add(conv)
        session.flush()
        return conv.id


def page_ids(html: str) -> list[str]:
    return ROW.findall(html)


def api_walk(client: Any, limit: int, **params: Any) -> list[str]:
    """Every id of the API list, page by page with its cursors."""
    ids: list[str] = []
    cursor = None
    for _ in range(500):
        query = dict(params, limit=limit, **({"cursor": cursor} if cursor else {}))
        response = client.get("/api/v1/conversations", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        ids.extend(item["id"] for item in body["items"])
        cursor = body["next"]
        if cursor is None:
            return ids
    raise AssertionError("the cursor never ended")
